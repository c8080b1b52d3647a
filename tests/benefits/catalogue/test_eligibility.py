"""A member's eligible benefits and `check_eligibility` on real data: every reason, ranking, paging,
who may ask, and per-member limits under concurrent redemptions."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa
from catalogue_kit import ANONYMOUS, CS, OPERATOR, SERVICE, member_principal, partner_principal, recharge, voucher

from services.benefits.catalogue import budgets, eligibility, rules, store
from services.benefits.catalogue.budgets import BudgetInput
from services.benefits.catalogue.rules import MemberFacts, Reason
from services.benefits.catalogue.store import reservations_t
from shared.errors import DomainError
from shared.timeutil import utcnow


def facts(member_id: uuid.UUID | None = None, **changes: object) -> MemberFacts:
    now = utcnow()
    base = {"member_id": member_id or uuid.uuid4(), "tier": "SILVER", "status": "ACTIVE", "birthday_month": now.month, "categories": ()}
    return MemberFacts(**{**base, **changes})  # type: ignore[arg-type]


async def verdicts(kit, member: MemberFacts, **kwargs) -> dict[str, tuple[str, ...]]:  # noqa: ANN001
    page = await eligibility.eligible_benefits(kit.db, member_principal(member.member_id), member, first=100, **kwargs)
    return {e.benefit.title: tuple(r.value for r in e.reasons) for e in page.rows}


async def catalogue(kit) -> dict[str, object]:  # noqa: ANN001
    partner, suspended = await kit.partner(), await kit.partner()
    made = {
        "open": await kit.benefit(partner, recharge(title="open")),
        "gold": await kit.benefit(partner, recharge(title="gold", min_tier="GOLD")),
        "later": await kit.benefit(partner, recharge(title="later", available_from=utcnow() + timedelta(days=2))),
        "no codes": await kit.benefit(partner, voucher(title="no codes")),
        "codes": await kit.benefit(partner, voucher(title="codes"), codes=2),
        "sold out": await kit.benefit(partner, recharge(title="sold out", stock_total=0)),
        "budget": await kit.benefit(partner, recharge(title="budget")),
        "daily": await kit.benefit(partner, recharge(title="daily", limit_per_day=1)),
        "birthday": await kit.benefit(partner, recharge(title="birthday", birthday_perk=True, points_price=0)),
        "draft": await kit.benefit(partner, recharge(title="draft"), status="DRAFT"),
        "paused": await kit.benefit(partner, recharge(title="paused"), status="PAUSED"),
        "elsewhere": await kit.benefit(suspended, recharge(title="elsewhere")),
    }
    await kit.set_partner_status(suspended, "SUSPENDED")
    await budgets.set_budget(kit.db, OPERATOR, BudgetInput(limit_minor=1_000, currency="CNY", benefit_id=made["budget"].id))
    made["partner"] = partner
    return made


async def test_every_reason_on_real_data(kit) -> None:  # noqa: ANN001
    made = await catalogue(kit)
    member = facts()
    await kit.reservation(made["daily"], member.member_id, state="ISSUED")
    await kit.reservation(made["open"], member.member_id, state="RELEASED")  # released: does not count
    await kit.reservation(made["birthday"], uuid.uuid4(), state="ISSUED")  # someone else's
    assert await verdicts(kit, member) == {
        "open": (), "gold": ("TIER_TOO_LOW",), "later": ("NOT_IN_WINDOW",), "no codes": ("OUT_OF_STOCK",), "codes": (),
        "sold out": ("OUT_OF_STOCK",), "budget": ("BUDGET_EXHAUSTED",), "daily": ("LIMIT_REACHED",), "birthday": (),
    }
    other_month = (utcnow().month % 12) + 1
    assert (await verdicts(kit, facts(birthday_month=other_month)))["birthday"] == ("NOT_BIRTHDAY_MONTH",)
    assert (await verdicts(kit, facts(birthday_month=None)))["birthday"] == ("NOT_BIRTHDAY_MONTH",)
    assert (await verdicts(kit, facts(tier="DIAMOND")))["gold"] == ()
    suspended = await verdicts(kit, facts(status="SUSPENDED"))
    assert all(reasons[0] == "MEMBER_NOT_ACTIVE" for reasons in suspended.values())
    # Yesterday's redemption does not count against today's limit.
    tomorrow = utcnow() + timedelta(days=1)
    page = await eligibility.eligible_benefits(kit.db, SERVICE, member, first=100, now=tomorrow)
    assert {e.benefit.title: e.redeemable for e in page.rows}["daily"] is True


async def test_ranked_by_interest_then_redeemable_then_points(kit) -> None:  # noqa: ANN001
    partner = await kit.partner()
    await kit.benefit(partner, recharge(title="video 900", points_price=900))
    await kit.benefit(partner, recharge(title="video 300", points_price=300))
    await kit.benefit(partner, recharge(title="video gold", points_price=100, min_tier="GOLD"))
    await kit.benefit(partner, recharge(title="travel", points_price=50, categories=["travel"]))
    await kit.benefit(partner, recharge(title="coffee tagged", points_price=5000, categories=["food"], tags=["coffee"]))
    await kit.benefit(partner, recharge(title="both", points_price=9000, categories=["video"], tags=["coffee"]))
    member = facts(categories=("video", "coffee"))
    assert list(await verdicts(kit, member)) == ["both", "video 300", "video 900", "coffee tagged", "video gold", "travel"]
    page = await eligibility.eligible_benefits(kit.db, SERVICE, member, first=100)
    assert [e.interest for e in page.rows] == [2, 1, 1, 1, 1, 0]
    assert list(await verdicts(kit, member, category="VIDEO")) == ["both", "video 300", "video 900", "video gold"]
    assert list(await verdicts(kit, facts())) == ["travel", "video 300", "video 900", "coffee tagged", "both", "video gold"]


async def test_pages_cover_the_ranking_once_while_it_changes(kit) -> None:  # noqa: ANN001
    partner = await kit.partner()
    for i in range(9):
        await kit.benefit(partner, recharge(title=f"b{i}", points_price=100 * (i % 4) + 1, categories=["video" if i % 3 else "other"]))
    member = facts(categories=("video",))
    seen, after = [], None
    while True:
        page = await eligibility.eligible_benefits(kit.db, SERVICE, member, first=2, after=after)
        seen.extend(e.benefit.title for e in page.rows)
        await kit.benefit(partner, recharge(title="new", points_price=1))
        if not page.has_next_page:
            break
        after = page.end_cursor
    originals = [t for t in seen if t != "new"]
    assert sorted(originals) == [f"b{i}" for i in range(9)]
    with pytest.raises(DomainError) as caught:
        await eligibility.eligible_benefits(kit.db, SERVICE, member, after="bogus")
    assert caught.value.code == "BAD_USER_INPUT"
    with pytest.raises(DomainError):
        await eligibility.eligible_benefits(kit.db, SERVICE, member, category="Not a slug!")


@pytest.mark.parametrize(
    ("who", "code"),
    [("self", None), ("operator", None), ("cs", None), ("service", None), ("other member", "FORBIDDEN"),
     ("partner", "FORBIDDEN"), ("anonymous", "UNAUTHENTICATED")],
)
async def test_who_may_ask_for_a_members_eligible_benefits(kit, who, code) -> None:  # noqa: ANN001
    partner = await kit.partner()
    await kit.benefit(partner, recharge())
    member = facts()
    principal = {"self": member_principal(member.member_id), "operator": OPERATOR, "cs": CS, "service": SERVICE,
                 "other member": member_principal(uuid.uuid4()), "partner": partner_principal(partner), "anonymous": ANONYMOUS}[who]
    try:
        page = await eligibility.eligible_benefits(kit.db, principal, member)
        assert code is None and len(page.rows) == 1
    except DomainError as error:
        assert error.code == code


@pytest.mark.parametrize(
    ("name", "member_changes", "code", "reason"),
    [
        ("open", {}, None, None),
        ("gold", {}, "TIER_TOO_LOW", "TIER_TOO_LOW"),
        ("later", {}, "NOT_AVAILABLE", "NOT_IN_WINDOW"),
        ("no codes", {}, "OUT_OF_STOCK", "OUT_OF_STOCK"),
        ("sold out", {}, "OUT_OF_STOCK", "OUT_OF_STOCK"),
        ("budget", {}, "BUDGET_EXHAUSTED", "BUDGET_EXHAUSTED"),
        ("daily", {}, "LIMIT_EXCEEDED", "LIMIT_REACHED"),
        ("birthday", {"birthday_month": None}, "NOT_AVAILABLE", "NOT_BIRTHDAY_MONTH"),
        ("draft", {}, "NOT_AVAILABLE", "NOT_AVAILABLE"),
        ("paused", {}, "NOT_AVAILABLE", "NOT_AVAILABLE"),
        ("elsewhere", {}, "NOT_AVAILABLE", "NOT_AVAILABLE"),
        ("open", {"status": "ERASED"}, "MEMBER_NOT_ACTIVE", "MEMBER_NOT_ACTIVE"),
        ("gold", {"status": "SUSPENDED"}, "MEMBER_NOT_ACTIVE", "MEMBER_NOT_ACTIVE"),  # the first reason wins
    ],
)
async def test_check_eligibility_raises_the_first_reason(kit, name, member_changes, code, reason) -> None:  # noqa: ANN001
    made = await catalogue(kit)
    member = facts(**member_changes)
    await kit.reservation(made["daily"], member.member_id)

    async def check(session):  # noqa: ANN001, ANN202
        return await eligibility.check_eligibility(session, made[name].id, member, utcnow())

    try:
        found = await kit.db.run_transaction(check)
        assert code is None and found.id == made[name].id and found.points_price == made[name].points_price
    except DomainError as error:
        assert (error.code, error.extensions["reason"]) == (code, reason)
        assert error.extensions["reasons"][0] == reason and error.extensions["benefitId"] == str(made[name].id)


async def test_check_eligibility_of_a_benefit_that_does_not_exist(kit) -> None:  # noqa: ANN001
    with pytest.raises(DomainError) as caught:
        await kit.db.run_transaction(lambda s: eligibility.check_eligibility(s, uuid.uuid4(), facts(), utcnow()))
    assert caught.value.code == "NOT_FOUND"


async def test_per_member_limits_hold_under_concurrent_redemptions(kit) -> None:  # noqa: ANN001
    """Reservations run check_eligibility and insert their row in one transaction: with a lifetime
    limit of 2, twenty concurrent redemptions by one member leave exactly two reservations."""
    partner = await kit.partner()
    benefit = await kit.benefit(partner, recharge(limit_lifetime=2))
    member = facts()
    other = facts()

    async def redeem(who: MemberFacts) -> str:
        async def work(session):  # noqa: ANN001, ANN202
            now = utcnow()
            await eligibility.check_eligibility(session, benefit.id, who, now)
            await session.exec(sa.insert(reservations_t).values(
                id=uuid.uuid4(), key=uuid.uuid4().hex, benefit_id=benefit.id, member_id=who.member_id, state="RESERVED",
                settlement_minor=1200, period_start=rules.month_start(now), expires_at=now + timedelta(minutes=5),
                created_at=now, created_by="service:redemptions",
            ))
            return "ok"

        try:
            return await kit.db.run_transaction(work)
        except DomainError as error:
            return error.code

    outcomes = await asyncio.gather(*(redeem(member) for _ in range(20)), *(redeem(other) for _ in range(5)))
    assert outcomes[:20].count("ok") == 2 and outcomes[:20].count("LIMIT_EXCEEDED") == 18
    assert outcomes[20:].count("ok") == 2


@pytest.mark.parametrize(("category", "interests"), [(None, ("video", "coffee")), ("video", ("video", "coffee")), (None, ()),
                                                     (None, ("travel",)), ("coffee", ("food", "nothing-matches"))])
async def test_reading_in_small_batches_pages_through_the_full_ranking(kit, monkeypatch, category, interests) -> None:  # noqa: ANN001
    """The ranking read batch by batch (here 2, 8, 32 … benefits; those matching the member's
    interests, then the rest) and cut into pages of 3 is exactly `rules.rank` over every benefit:
    groups, ties, cursors in either part of a group and across the two reads."""
    monkeypatch.setattr(eligibility, "FIRST_BATCH", 2)
    partner = await kit.partner()
    shapes = [(["video"], []), (["coffee"], ["video"]), (["travel"], []), (["video"], ["coffee"]), (["food"], ["coffee"])]
    for i in range(30):
        cats, tags = shapes[i % 5]
        await kit.benefit(partner, recharge(
            title=f"b{i:02}", points_price=100 * (i % 4) + 1, categories=cats, tags=tags,
            min_tier="GOLD" if i % 7 == 0 else None, stock_total=0 if i % 6 == 0 else None,
        ))
    member = facts(categories=interests)
    await kit.reservation(await kit.benefit(partner, recharge(title="limited", limit_lifetime=1, categories=["video"])), member.member_id)
    now = utcnow()
    async with kit.db.engine.connect() as connection:
        every = await store.active_facts(connection, category=category, period_start=rules.month_start(now))
        usage = await store.member_usage(connection, member.member_id, day=rules.day_start(now), month=rules.month_start(now), year=rules.year_start(now))
    expected = [(v.benefit.id, v.reasons, v.interest) for v in rules.rank(every, member, usage, now, ("BASIC", "SILVER", "GOLD", "DIAMOND"))]
    seen, after = [], None
    while True:
        page = await eligibility.eligible_benefits(kit.db, SERVICE, member, first=3, after=after, category=category, now=now)
        seen.extend((e.benefit.id, e.reasons, e.interest) for e in page.rows)
        if not page.has_next_page:
            break
        after = page.end_cursor
    assert seen == expected
    assert {r for _, reasons, _ in seen for r in reasons} >= {Reason.TIER_TOO_LOW, Reason.OUT_OF_STOCK}


async def test_the_tier_order_is_a_setting(kit, monkeypatch) -> None:  # noqa: ANN001
    from services.benefits.config import reset_benefits_settings_cache

    partner = await kit.partner()
    monkeypatch.setenv("ABG_BENEFITS_TIER_ORDER", "green, blue ,BLACK")
    reset_benefits_settings_cache()
    with pytest.raises(DomainError) as caught:
        await kit.benefit(partner, recharge(min_tier="GOLD"))
    assert caught.value.extensions["field"] == "minTier"
    await kit.benefit(partner, recharge(title="blue", min_tier="Blue"))
    for tier, ok in (("BLACK", True), ("BLUE", True), ("GREEN", False), ("GOLD", False)):
        reasons = (await verdicts(kit, facts(tier=tier)))["blue"]
        assert reasons == (() if ok else ("TIER_TOO_LOW",)), tier
    monkeypatch.setenv("ABG_BENEFITS_TIER_ORDER", " , ")
    reset_benefits_settings_cache()
    from services.benefits.config import get_benefits_settings

    with pytest.raises(ValueError):
        get_benefits_settings()
