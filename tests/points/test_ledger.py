"""The ledger core through the service layer on real PostgreSQL: credits, lots, holds, captures with
settlement, releases, refunds, adjustments, and the invariants after each."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from services.points import service
from services.points.checks import ledger_check
from services.points.models import lots_t, postings_t, settlements_t, transactions_t
from services.points.reads import hold_of
from shared.errors import Conflict, InsufficientPoints, InvalidInput
from shared.timeutil import utcnow

SERVICE = "service:redemptions"


async def _postings(kit, transaction_id: uuid.UUID) -> list[tuple[str, int, uuid.UUID | None]]:  # noqa: ANN001
    async with kit.db.engine.connect() as c:
        rows = await c.execute(
            select(postings_t.c.account, postings_t.c.amount, postings_t.c.lot_id).where(postings_t.c.transaction_id == transaction_id)
        )
        return sorted((r.account, r.amount, r.lot_id) for r in rows)


async def _lot(kit, lot_id: uuid.UUID):  # noqa: ANN001, ANN202
    async with kit.db.engine.connect() as c:
        return (await c.execute(select(lots_t).where(lots_t.c.id == lot_id))).one()


async def test_a_purchase_credits_a_lot_from_the_issuer_with_balanced_postings(kit) -> None:  # noqa: ANN001
    partner = await kit.partner(cost=2)
    member = uuid.uuid4()
    answer = await kit.earn(member, partner, 120)
    assert answer.points == 120 and not answer.pending
    assert (await kit.balances(member)).available == 120
    assert await _postings(kit, answer.transaction_id) == sorted(
        [(f"issuer:{partner.id}:issued", -120, answer.lot_id), (f"member:{member}:available", 120, answer.lot_id)]
    )
    lot = await _lot(kit, answer.lot_id)
    assert (lot.issuer_partner_id, lot.cost_per_point_minor, lot.currency, lot.remaining) == (partner.id, 2, "CNY", 120)
    assert lot.expires_at.year == lot.earned_at.year + 3  # default 36 months
    await kit.assert_consistent()


async def test_points_are_pending_until_the_return_window_passes_and_vesting_is_idempotent(kit) -> None:  # noqa: ANN001
    from services.points.jobs import run_vesting

    partner = await kit.partner(window=7)
    member = uuid.uuid4()
    answer = await kit.earn(member, partner, 50)
    assert answer.pending
    balances = await kit.balances(member)
    assert (balances.pending, balances.available) == (50, 0)
    with pytest.raises(InsufficientPoints):
        await kit.hold(member, 1)

    assert (await run_vesting(kit.db)).lots == 0  # not yet due
    first = await run_vesting(kit.db, now=utcnow() + timedelta(days=8))
    assert (first.lots, first.points) == (1, 50)
    balances = await kit.balances(member)
    assert (balances.pending, balances.available) == (0, 50)
    again = await run_vesting(kit.db, now=utcnow() + timedelta(days=9))
    assert again.lots == 0
    assert (await kit.balances(member)).available == 50
    await kit.assert_consistent()


async def test_holds_take_lots_first_expiring_first(kit) -> None:  # noqa: ANN001
    long_lived, short_lived = await kit.partner(months=36), await kit.partner(months=12)
    member = uuid.uuid4()
    long_lot = (await kit.earn(member, long_lived, 100)).lot_id
    short_lot = (await kit.earn(member, short_lived, 30)).lot_id
    hold = await kit.hold(member, 50)
    assert (await _lot(kit, short_lot)).remaining == 0
    assert (await _lot(kit, long_lot)).remaining == 80
    balances = await kit.balances(member)
    assert (balances.available, balances.held) == (80, 50)
    assert hold.status == "ACTIVE" and hold.amount == 50
    await kit.assert_consistent()


async def test_capture_settles_pro_rata_per_issuer_and_gives_the_rest_back(kit) -> None:  # noqa: ANN001
    first, second, beneficiary = await kit.partner(months=12), await kit.partner(months=24), await kit.partner()
    member = uuid.uuid4()
    first_lot = (await kit.earn(member, first, 30)).lot_id
    second_lot = (await kit.earn(member, second, 70)).lot_id
    hold = await kit.hold(member, 100)
    capture = await kit.capture(hold.id, 90, beneficiary, value=1000)

    # First-expiring first: all 30 of the first lot, 60 of the second; 10 go back to the second lot.
    lines = {line.lot_id: line for line in capture.settlements}
    assert (lines[first_lot].points, lines[second_lot].points) == (30, 60)
    assert (lines[first_lot].amount_minor, lines[second_lot].amount_minor) == (333, 667)
    assert {line.issuer_partner_id for line in capture.settlements} == {first.id, second.id}
    assert capture.hold.status == "CAPTURED" and (capture.hold.captured, capture.hold.released) == (90, 10)
    assert (await _lot(kit, second_lot)).remaining == 10
    balances = await kit.balances(member)
    assert (balances.available, balances.held, balances.lifetime_spent) == (10, 0, 90)
    posted = await _postings(kit, capture.transaction_id)
    assert (f"issuer:{first.id}:redeemed:{beneficiary.id}", 30, first_lot) in posted
    assert (f"issuer:{second.id}:redeemed:{beneficiary.id}", 60, second_lot) in posted
    assert (f"member:{member}:available", 10, second_lot) in posted
    async with kit.db.engine.connect() as c:
        total = (await c.execute(text("SELECT sum(amount_minor) FROM points.settlements"))).scalar_one()
    assert total == 1000
    await kit.assert_consistent()


async def test_release_gives_every_point_back_and_a_released_hold_cannot_be_captured(kit) -> None:  # noqa: ANN001
    beneficiary = await kit.partner()
    member = await kit.member(40)
    hold = await kit.hold(member, 25)
    released = await kit.release(hold.id)
    assert released.hold.status == "RELEASED"
    balances = await kit.balances(member)
    assert (balances.available, balances.held) == (40, 0)
    with pytest.raises(Conflict) as caught:
        await kit.capture(hold.id, 25, beneficiary)
    assert caught.value.extensions["holdStatus"] == "RELEASED"
    with pytest.raises(Conflict):
        await kit.release(hold.id)
    await kit.assert_consistent()


async def test_holds_past_their_time_limit_release_themselves(kit) -> None:  # noqa: ANN001
    from services.points.jobs import run_hold_expiry

    beneficiary = await kit.partner()
    member = await kit.member(40)
    hold = await kit.hold(member, 40, ttl=60)
    assert (await run_hold_expiry(kit.db)).holds == 0  # still within its ttl
    result = await run_hold_expiry(kit.db, now=utcnow() + timedelta(seconds=61))
    assert (result.holds, result.points) == (1, 40)
    assert (await hold_of(kit.db, hold.id)).status == "EXPIRED"
    assert (await kit.balances(member)).available == 40
    assert (await run_hold_expiry(kit.db, now=utcnow() + timedelta(seconds=120))).holds == 0
    with pytest.raises(Conflict):
        await kit.capture(hold.id, 40, beneficiary)
    await kit.assert_consistent()


async def test_an_expired_but_unreleased_hold_cannot_be_captured(kit) -> None:  # noqa: ANN001
    beneficiary = await kit.partner()
    member = await kit.member(10)
    hold = await kit.hold(member, 10, ttl=60)
    with pytest.raises(Conflict) as caught:
        await kit.capture(hold.id, 10, beneficiary, now=utcnow() + timedelta(seconds=61))
    assert caught.value.extensions["holdStatus"] == "EXPIRED"


async def test_refund_returns_points_to_their_lots_and_reverses_settlement(kit) -> None:  # noqa: ANN001
    issuer, beneficiary = await kit.partner(), await kit.partner()
    member = uuid.uuid4()
    lot = (await kit.earn(member, issuer, 100)).lot_id
    hold = await kit.hold(member, 100)
    await kit.capture(hold.id, 100, beneficiary, value=999)
    first = await kit.refund(hold.id, 40)
    assert (first.points_refunded, first.to_original_lots, first.to_grace_lots) == (40, 40, 0)
    assert first.settlements[0].amount_minor == -(999 * 40 // 100)
    second = await kit.refund(hold.id, 60)
    assert (await _lot(kit, lot)).remaining == 100
    balances = await kit.balances(member)
    assert (balances.available, balances.lifetime_spent) == (100, 0)
    # All of it refunded: the settlement nets to exactly zero.
    async with kit.db.engine.connect() as c:
        net = (await c.execute(select(text("sum(amount_minor)")).select_from(settlements_t))).scalar_one()
    assert net == 0 and second.hold.refunded == 100
    with pytest.raises(InvalidInput):
        await kit.refund(hold.id, 1)
    await kit.assert_consistent()


async def test_refunded_points_whose_lot_expired_come_back_in_a_grace_lot(kit) -> None:  # noqa: ANN001
    from services.points.jobs import run_expiry

    issuer, beneficiary = await kit.partner(months=12), await kit.partner()
    member = uuid.uuid4()
    await kit.earn(member, issuer, 100)
    hold = await kit.hold(member, 100)
    await kit.capture(hold.id, 100, beneficiary, value=100)
    later = utcnow() + timedelta(days=400)  # past the lot's expiry
    await run_expiry(kit.db, now=later)
    refund = await kit.refund(hold.id, 30, now=later)
    assert (refund.to_original_lots, refund.to_grace_lots) == (0, 30)
    assert refund.grace_lot_expires_at == later + timedelta(days=30)
    balances = await kit.balances(member)
    assert balances.available == 30
    async with kit.db.engine.connect() as c:
        grace = (await c.execute(select(lots_t).where(lots_t.c.source == "GRACE"))).one()
    assert (grace.issuer_partner_id, grace.remaining, grace.amount) == (issuer.id, 30, 30)
    await kit.assert_consistent()


async def test_expiry_books_breakage_per_issuer_once(kit) -> None:  # noqa: ANN001
    from services.points.jobs import run_expiry

    short, long_ = await kit.partner(months=12, cost=3), await kit.partner(months=36)
    member = uuid.uuid4()
    await kit.earn(member, short, 70)
    await kit.earn(member, long_, 20)
    later = utcnow() + timedelta(days=400)
    result = await run_expiry(kit.db, now=later)
    assert (result.lots, result.points) == (1, 70)
    balances = await kit.balances(member)
    assert (balances.available, balances.lifetime_expired) == (20, 70)
    assert (await run_expiry(kit.db, now=later + timedelta(days=1))).points == 0
    async with kit.db.engine.connect() as c:
        breakage = (
            await c.execute(select(text("sum(amount)")).select_from(postings_t).where(postings_t.c.account == f"issuer:{short.id}:breakage"))
        ).scalar_one()
    assert breakage == 70
    await kit.assert_consistent()


async def test_points_held_from_a_lot_that_expires_meanwhile_go_to_breakage_on_release(kit) -> None:  # noqa: ANN001
    from services.points.jobs import run_expiry

    issuer = await kit.partner(months=12)
    member = await kit.member(50, partner=issuer)
    hold = await kit.hold(member, 20, ttl=7 * 24 * 3600)
    later = utcnow() + timedelta(days=400)
    assert (await run_expiry(kit.db, now=later)).points == 30  # the unheld rest
    await kit.release(hold.id, now=later)
    balances = await kit.balances(member)
    assert (balances.available, balances.held, balances.lifetime_expired) == (0, 0, 50)
    await kit.assert_consistent()


async def test_operator_adjustments_are_audited_credits_and_debits(kit) -> None:  # noqa: ANN001
    member = await kit.member(10)
    credit = await service.adjust_points(
        kit.db, member_id=member, points=25, reason="goodwill for a late delivery", idempotency_key="a1", caller="staff:ops-1"
    )
    debit = await service.adjust_points(
        kit.db, member_id=member, points=-5, reason="duplicate credit", idempotency_key="a2", caller="staff:ops-1"
    )
    assert (await kit.balances(member)).available == 30
    async with kit.db.engine.connect() as c:
        rows = (await c.execute(select(transactions_t).where(transactions_t.c.id.in_([credit.transaction_id, debit.transaction_id])))).all()
    assert {(r.kind, r.actor, r.detail["reason"]) for r in rows} == {
        ("ADJUST", "staff:ops-1", "goodwill for a late delivery"),
        ("ADJUST", "staff:ops-1", "duplicate credit"),
    }
    assert (f"issuer:alliance:issued", -25, credit.lot_id) in await _postings(kit, credit.transaction_id)
    with pytest.raises(InsufficientPoints):
        await service.adjust_points(kit.db, member_id=member, points=-31, reason="too much", idempotency_key="a3", caller="staff:ops-1")
    assert (await kit.balances(member)).available == 30
    await kit.assert_consistent()


async def test_the_ledger_check_finds_a_balance_that_disagrees(kit) -> None:  # noqa: ANN001
    member = await kit.member(10)
    async with kit.db.engine.begin() as c:
        await c.execute(text("UPDATE points.member_accounts SET available = available + 5 WHERE member_id = :m"), {"m": member})
    check = await ledger_check(kit.db)
    assert not check.ok
    assert any(str(member) in problem and "available" in problem for problem in check.problems)


async def test_the_ledger_is_append_only(kit) -> None:  # noqa: ANN001
    await kit.member(10)
    for statement in ("UPDATE points.postings SET amount = amount * 2", "DELETE FROM points.ledger_transactions"):
        with pytest.raises(Exception, match="append-only"):
            async with kit.db.engine.begin() as c:
                await c.execute(text(statement))
