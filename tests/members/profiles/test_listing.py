"""The staff list: filters (tier, status, lifecycle stage, phone, email) and cursor pagination."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from shared.database import Database
from shared.errors import Forbidden, InvalidInput, Unauthenticated
from shared.auth.principals import ANONYMOUS
from shared.timeutil import add_months, utcnow

from services.members.profiles import service as profiles
from services.members.profiles.answers import LifecycleStage, MemberFilter, Status
from services.members.profiles.lifecycle import stage
from services.members.tiers import service as tiers
from services.members.tiers.answers import GrowthInput, GrowthKind
from tests.members.conftest import OPERATOR, PARTNER, POINTS, SUPPORT, as_member, purchase, register


async def everyone(database: Database, filter: MemberFilter = MemberFilter(), **kwargs: object) -> list:
    rows, after = [], None
    while True:
        page = await profiles.list_members(database, OPERATOR, filter, first=7, after=after, **kwargs)  # type: ignore[arg-type]
        rows += page.rows
        if not page.has_next_page:
            return rows
        after = page.end_cursor


async def populate(database: Database) -> dict[str, uuid.UUID]:
    now = utcnow()
    made = {}
    specs = {
        "new": (timedelta(days=10), None),
        "growing": (timedelta(days=150), timedelta(days=5)),
        "mature": (timedelta(days=500), timedelta(days=1)),
        "at_risk_old": (timedelta(days=500), timedelta(days=120)),
        "at_risk_idle": (timedelta(days=100), None),  # never active since joining 100 days ago
        "edge_growing": (None, timedelta(days=89)),  # exactly 3 months ago, active 89 days ago
    }
    for i, (name, (age, idle)) in enumerate(specs.items()):
        joined = now - age if age is not None else add_months(now, -3)
        view = await register(database, phone=f"+86139000000{i:02d}", email=f"{name}@example.com", joined_at=joined)
        if idle is not None:
            await tiers.record_growth(
                database, POINTS,
                GrowthInput(f"act-{name}", view.id, GrowthKind.REVIEW, now - idle),
            )
        made[name] = view.id
    return made


async def test_lifecycle_filters_agree_with_the_stage_each_member_shows(database: Database) -> None:
    made = await populate(database)
    now = utcnow()
    everybody = await everyone(database, now=now)
    assert len(everybody) == len(made)
    for wanted in LifecycleStage:
        listed = {v.id for v in await everyone(database, MemberFilter(lifecycle_stage=wanted), now=now)}
        shown = {v.id for v in everybody if v.lifecycle_stage is wanted}
        computed = {v.id for v in everybody if stage(v.joined_at, v.last_activity_at, now) is wanted}
        assert listed == shown == computed, wanted
    by_stage = {v.id: v.lifecycle_stage for v in everybody}
    assert by_stage[made["new"]] is LifecycleStage.NEW
    assert by_stage[made["growing"]] is LifecycleStage.GROWING
    assert by_stage[made["edge_growing"]] is LifecycleStage.GROWING
    assert by_stage[made["mature"]] is LifecycleStage.MATURE
    assert by_stage[made["at_risk_old"]] is LifecycleStage.AT_RISK
    assert by_stage[made["at_risk_idle"]] is LifecycleStage.AT_RISK


async def test_filter_by_tier_and_status(database: Database) -> None:
    made = await populate(database)
    await purchase(database, made["mature"], 6000)
    await purchase(database, made["new"], 2500)
    await profiles.suspend_member(database, OPERATOR, made["growing"])
    await profiles.erase_member(database, OPERATOR, made["at_risk_idle"])
    assert [v.id for v in await everyone(database, MemberFilter(tier="gold"))] == [made["mature"]]
    assert [v.id for v in await everyone(database, MemberFilter(tier="SILVER"))] == [made["new"]]
    assert [v.id for v in await everyone(database, MemberFilter(status=Status.SUSPENDED))] == [made["growing"]]
    assert [v.id for v in await everyone(database, MemberFilter(status=Status.ERASED))] == [made["at_risk_idle"]]
    assert len(await everyone(database, MemberFilter(status=Status.ACTIVE))) == 4
    at_risk = {v.id for v in await everyone(database, MemberFilter(lifecycle_stage=LifecycleStage.AT_RISK))}
    assert at_risk == {made["at_risk_old"]}  # the erased member has no stage any more
    with pytest.raises(InvalidInput):
        await everyone(database, MemberFilter(tier="no such tier!"))


async def test_member_count_counts_what_the_list_lists_for_staff_only(database: Database) -> None:
    made = await populate(database)
    await profiles.suspend_member(database, OPERATOR, made["growing"])
    await profiles.erase_member(database, OPERATOR, made["at_risk_idle"])
    for filter in (MemberFilter(), MemberFilter(status=Status.ACTIVE), MemberFilter(status=Status.SUSPENDED),
                   MemberFilter(status=Status.ERASED), MemberFilter(lifecycle_stage=LifecycleStage.AT_RISK)):
        assert await profiles.count_members(database, SUPPORT, filter) == len(await everyone(database, filter)), filter
    assert await profiles.count_members(database, OPERATOR, MemberFilter(status=Status.ACTIVE)) == 4
    for actor in (PARTNER, POINTS, as_member(made["new"])):
        with pytest.raises(Forbidden):
            await profiles.count_members(database, actor)
    with pytest.raises(Unauthenticated):
        await profiles.count_members(database, ANONYMOUS)


async def test_lookup_by_phone_and_email_goes_through_the_blind_index(database: Database) -> None:
    made = await populate(database)
    (found,) = await everyone(database, MemberFilter(phone="139 0000 0002"))
    assert found.id == made["mature"]
    (found,) = await everyone(database, MemberFilter(email="MATURE@example.COM"))
    assert found.id == made["mature"]
    assert await everyone(database, MemberFilter(phone="+8613999999999")) == []
    with pytest.raises(InvalidInput):
        await everyone(database, MemberFilter(phone="not a phone"))


async def test_pages_are_newest_first_without_gaps_or_repeats(database: Database) -> None:
    now = utcnow()
    for i in range(23):
        await register(database, phone=f"+86139000001{i:02d}", email=None, joined_at=now - timedelta(days=i % 5, minutes=i))
    seen, after, pages = [], None, 0
    while True:
        page = await profiles.list_members(database, SUPPORT, first=10, after=after)
        pages += 1
        seen += page.rows
        assert page.has_previous_page == (after is not None)
        if not page.has_next_page:
            break
        after = page.end_cursor
    assert pages == 3 and len(seen) == 23 and len({v.id for v in seen}) == 23
    keys = [(v.joined_at, v.id) for v in seen]
    assert keys == sorted(keys, reverse=True)
    assert all(v.phone and "****" in v.phone for v in seen)  # customer service: masked


@pytest.mark.parametrize("kwargs", [{"first": 0}, {"first": 101}, {"after": "garbage!"}, {"after": "W10"}])
async def test_bad_page_arguments_are_typed_errors(database: Database, kwargs: dict) -> None:
    with pytest.raises(InvalidInput):
        await profiles.list_members(database, OPERATOR, **kwargs)


@pytest.mark.parametrize(("actor", "error"), [(ANONYMOUS, Unauthenticated), (PARTNER, Forbidden), (POINTS, Forbidden), ("member", Forbidden)])
async def test_the_list_is_for_staff_only(database: Database, actor: object, error: type) -> None:
    me = await register(database)
    if actor == "member":
        actor = as_member(me.id)
    with pytest.raises(error):
        await profiles.list_members(database, actor)  # type: ignore[arg-type]


@pytest.mark.parametrize("values", [["x"], [1, 2], ["a", "b"]])
async def test_a_cursor_from_another_list_is_a_typed_error(database: Database, values: list) -> None:
    from shared.pagination import encode_cursor

    with pytest.raises(InvalidInput):
        await profiles.list_members(database, OPERATOR, after=encode_cursor(values))
