"""Growth value: recording, idempotency, upgrades at once, TierChanged events (real PostgreSQL)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from shared.database import Database
from shared.errors import Forbidden, IdempotencyKeyReused, InvalidInput, NotFound
from shared.timeutil import add_months, utcnow

from services.members.config import reset_members_settings_cache
from services.members.profiles import service as profiles
from services.members.tiers import rules
from services.members.tiers import service as tiers
from services.members.tiers.answers import GrowthInput, GrowthKind, PolicyChange
from services.members.tiers.policy import DEFAULT_POLICY
from tests.members.conftest import OPERATOR, POINTS, SUPPORT, as_member, fetch, history, purchase, register


async def tier_events(database: Database) -> list[dict]:
    import json

    rows = await fetch(database, "SELECT payload FROM members.outbox_events WHERE type = 'members.TierChanged' ORDER BY id")
    return [json.loads(r["payload"]) for r in rows]


async def test_one_growth_point_per_currency_unit(database: Database) -> None:
    me = await register(database)
    at = utcnow() - timedelta(days=2)
    result = await tiers.record_growth(
        database, POINTS, GrowthInput("p-1", me.id, GrowthKind.PURCHASE, at, 123_456, "CNY")
    )
    assert (result.growth, result.rolling_growth, result.duplicate, result.tier) == (1234, 1234, False, "BASIC")
    view = await profiles.get_member(database, OPERATOR, me.id)
    assert view.last_activity_at == at  # growth counts as activity


async def test_a_redelivered_event_adds_nothing(database: Database) -> None:
    me = await register(database)
    at = utcnow()
    entry = GrowthInput("evt-42", me.id, GrowthKind.PURCHASE, at, 300_000, "CNY")
    first = await tiers.record_growth(database, POINTS, entry)
    again = await tiers.record_growth(database, POINTS, entry)
    assert (first.duplicate, first.tier) == (False, "SILVER")
    assert (again.duplicate, again.growth, again.rolling_growth, again.tier) == (True, 3000, 3000, "SILVER")
    assert (await tiers.rolling_growth(database, OPERATOR, [me.id]))[me.id] == 3000
    assert len(await fetch(database, "SELECT 1 FROM members.growth_events")) == 1
    assert len(await tier_events(database)) == 1


async def test_one_event_id_with_other_content_is_refused(database: Database) -> None:
    me = await register(database)
    at = utcnow()
    await tiers.record_growth(database, POINTS, GrowthInput("evt-1", me.id, GrowthKind.PURCHASE, at, 10_000, "CNY"))
    with pytest.raises(IdempotencyKeyReused) as caught:
        await tiers.record_growth(database, POINTS, GrowthInput("evt-1", me.id, GrowthKind.PURCHASE, at, 99_000, "CNY"))
    assert caught.value.code == "IDEMPOTENCY_KEY_REUSED"
    assert (await tiers.rolling_growth(database, OPERATOR, [me.id]))[me.id] == 100


async def test_concurrent_redeliveries_count_once(database: Database) -> None:
    me = await register(database)
    entry = GrowthInput("evt-race", me.id, GrowthKind.PURCHASE, utcnow(), 500_000, "CNY")
    results = await asyncio.gather(*(tiers.record_growth(database, POINTS, entry) for _ in range(8)))
    assert sum(not r.duplicate for r in results) == 1
    assert (await tiers.rolling_growth(database, OPERATOR, [me.id]))[me.id] == 5000
    assert [e["toTier"] for e in await tier_events(database)] == ["GOLD"]


async def test_concurrent_growth_for_one_member_adds_up(database: Database) -> None:
    me = await register(database)
    await asyncio.gather(*(purchase(database, me.id, 500) for _ in range(10)))
    assert (await tiers.rolling_growth(database, OPERATOR, [me.id]))[me.id] == 5000
    assert (await profiles.get_member(database, OPERATOR, me.id)).tier == "GOLD"
    changes = await history(database, me.id)
    assert [c.sequence for c in changes] == list(range(len(changes) - 1, -1, -1))  # no gaps, no repeats


async def test_interactions_earn_the_growth_the_policy_sets(database: Database) -> None:
    me = await register(database)
    review = await tiers.record_growth(database, POINTS, GrowthInput("r-1", me.id, GrowthKind.REVIEW, utcnow()))
    referral = await tiers.record_growth(database, POINTS, GrowthInput("f-1", me.id, GrowthKind.REFERRAL, utcnow()))
    assert (review.growth, referral.growth) == (20, 200)
    await tiers.update_policy(database, OPERATOR, PolicyChange(review_growth=55, referral_growth=1000))
    review = await tiers.record_growth(database, POINTS, GrowthInput("r-2", me.id, GrowthKind.REVIEW, utcnow()))
    referral = await tiers.record_growth(database, POINTS, GrowthInput("f-2", me.id, GrowthKind.REFERRAL, utcnow()))
    assert (review.growth, referral.growth) == (55, 1000)
    assert (await tiers.rolling_growth(database, OPERATOR, [me.id]))[me.id] == 20 + 200 + 55 + 1000


async def test_upgrades_happen_at_once_and_may_skip_tiers(database: Database) -> None:
    me = await register(database)
    assert (await purchase(database, me.id, 1999)).tier == "BASIC"
    up = await purchase(database, me.id, 1)
    assert (up.previous_tier, up.tier, up.rolling_growth) == ("BASIC", "SILVER", 2000)
    jump = await purchase(database, me.id, 8000)
    assert (jump.previous_tier, jump.tier) == ("SILVER", "DIAMOND")
    changes = await history(database, me.id)
    assert [(c.sequence, c.from_tier, c.to_tier, c.reason) for c in changes] == [
        (2, "SILVER", "DIAMOND", "UPGRADE"), (1, "BASIC", "SILVER", "UPGRADE"), (0, None, "BASIC", "JOINED"),
    ]


async def test_tier_changed_events_go_through_the_outbox_to_configured_subscribers(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    me = await register(database)
    await purchase(database, me.id, 2500)
    monkeypatch.setenv("ABG_MEMBERS_EVENT_SUBSCRIBERS", "points, benefits")
    reset_members_settings_cache()
    try:
        await purchase(database, me.id, 3000)
        monkeypatch.setenv("ABG_MEMBERS_EVENT_SUBSCRIBERS", "")
        reset_members_settings_cache()
        await purchase(database, me.id, 5000)
    finally:
        monkeypatch.undo()
        reset_members_settings_cache()
    events = await tier_events(database)
    assert [(e["fromTier"], e["toTier"], e["sequence"], e["reason"]) for e in events] == [
        ("BASIC", "SILVER", 1, "UPGRADE"), ("SILVER", "GOLD", 2, "UPGRADE"), ("GOLD", "DIAMOND", 3, "UPGRADE"),
    ]
    assert all(e["memberId"] == str(me.id) and datetime.fromisoformat(e["occurredAt"]).tzinfo for e in events)
    deliveries = await fetch(
        database,
        "SELECT e.payload->>'toTier' AS tier, d.subscriber, d.status FROM members.outbox_deliveries d"
        " JOIN members.outbox_events e ON e.id = d.event_id ORDER BY e.id, d.subscriber",
    )
    assert [tuple(d) for d in deliveries] == [
        ("SILVER", "points", "pending"), ("GOLD", "benefits", "pending"), ("GOLD", "points", "pending"),
    ]


async def test_growth_outside_the_window_is_kept_but_does_not_count(database: Database) -> None:
    me = await register(database, joined_at=utcnow() - timedelta(days=800))
    old = await purchase(database, me.id, 9000, at=add_months(utcnow(), -13))
    assert (old.growth, old.rolling_growth, old.tier) == (9000, 0, "BASIC")
    assert len(await fetch(database, "SELECT 1 FROM members.growth_events")) == 1


async def test_a_return_takes_growth_back_but_does_not_downgrade_at_once(database: Database) -> None:
    me = await register(database)
    await purchase(database, me.id, 2500)
    back = await tiers.record_growth(
        database, POINTS, GrowthInput("ret-1", me.id, GrowthKind.RETURN, utcnow(), 100_000, "CNY")
    )
    assert (back.growth, back.rolling_growth, back.tier) == (-1000, 1500, "SILVER")  # the review decides
    bigger = await tiers.record_growth(
        database, POINTS, GrowthInput("ret-2", me.id, GrowthKind.RETURN, utcnow(), 900_000, "CNY")
    )
    assert bigger.rolling_growth == 0  # never below zero


async def test_tier_progress(database: Database) -> None:
    me = await register(database)
    await purchase(database, me.id, 2600)
    view = await profiles.get_member(database, OPERATOR, me.id)
    now = utcnow()
    (progress,) = await tiers.progress_of(database, OPERATOR, [view], now=now)
    assert progress is not None and (progress.tier, progress.rolling_growth) == ("SILVER", 2600)
    assert (progress.next_tier, progress.growth_to_next_tier, progress.growth_to_keep_tier) == ("GOLD", 2400, 0)
    assert progress.window_end == now and progress.window_start == add_months(now, -12)
    top = rules.tier_progress(DEFAULT_POLICY, "DIAMOND", now, 9000, now)  # a member who slipped below
    assert (top.next_tier, top.growth_to_next_tier, top.growth_to_keep_tier) == (None, None, 1000)
    assert top.downgrade_review_from == now + timedelta(days=30)


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        (dict(kind=GrowthKind.PURCHASE, amount_minor=None, currency="CNY"), "amountMinor"),
        (dict(kind=GrowthKind.PURCHASE, amount_minor=0, currency="CNY"), "amountMinor"),
        (dict(kind=GrowthKind.PURCHASE, amount_minor=-5, currency="CNY"), "amountMinor"),
        (dict(kind=GrowthKind.PURCHASE, amount_minor=10**13, currency="CNY"), "amountMinor"),
        (dict(kind=GrowthKind.PURCHASE, amount_minor=100, currency="yuan"), "currency"),
        (dict(kind=GrowthKind.PURCHASE, amount_minor=100, currency=None), "currency"),
        (dict(kind=GrowthKind.REVIEW, amount_minor=100, currency="CNY"), "amountMinor"),
        (dict(kind="LOGIN"), "kind"),
        (dict(occurred_at=datetime(2026, 1, 1)), "occurredAt"),  # no offset
        (dict(occurred_at=datetime.now(UTC) + timedelta(hours=1)), "occurredAt"),
        (dict(event_id="has space"), "eventId"),
        (dict(event_id=""), "eventId"),
        (dict(event_id="e" * 201), "eventId"),
    ],
)
async def test_bad_growth_is_refused_and_nothing_is_written(database: Database, entry: dict, field: str) -> None:
    me = await register(database)
    values = dict(event_id="evt", member_id=me.id, kind=GrowthKind.REVIEW, occurred_at=utcnow()) | entry
    with pytest.raises(InvalidInput) as caught:
        await tiers.record_growth(database, POINTS, GrowthInput(**values))
    assert caught.value.extensions["field"] == field
    assert await fetch(database, "SELECT 1 FROM members.growth_events") == []


async def test_growth_is_for_alliance_services_only(database: Database) -> None:
    me = await register(database)
    entry = GrowthInput("e", me.id, GrowthKind.REFERRAL, utcnow())
    for actor in (as_member(me.id), OPERATOR, SUPPORT):
        with pytest.raises(Forbidden):
            await tiers.record_growth(database, actor, entry)
    with pytest.raises(NotFound):
        await tiers.record_growth(database, POINTS, GrowthInput("e", uuid.uuid4(), GrowthKind.REFERRAL, utcnow()))
    assert await fetch(database, "SELECT 1 FROM members.growth_events") == []


async def test_an_erased_members_growth_is_recorded_as_nothing(database: Database) -> None:
    me = await register(database)
    await profiles.erase_member(database, OPERATOR, me.id)
    at = utcnow()
    result = await purchase(database, me.id, 5000, event_id="late", at=at)
    assert (result.growth, result.tier, result.duplicate) == (0, "BASIC", False)
    assert await tier_events(database) == []
    assert (await purchase(database, me.id, 5000, event_id="late", at=at)).duplicate  # still idempotent


async def test_a_suspended_member_still_earns_growth(database: Database) -> None:
    me = await register(database)
    await profiles.suspend_member(database, OPERATOR, me.id)
    assert (await purchase(database, me.id, 2000)).tier == "SILVER"
