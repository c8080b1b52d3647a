"""Holds through the service layer on real PostgreSQL: reserving first-expiring first, captures
with settlement, releases, expiry of holds, refunds (into grace lots where lots expired), and
the invariants after each."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from services.points.models import Lot, Settlement
from services.points.spending.service import get_hold
from shared.auth import Principal, PrincipalKind
from shared.errors import Conflict, InvalidInput
from shared.timeutil import utcnow

SERVICE = Principal(PrincipalKind.SERVICE, "redemptions")
LOTS, SETTLEMENTS = Lot.__table__, Settlement.__table__


async def test_holds_take_lots_first_expiring_first(kit) -> None:  # noqa: ANN001
    long_lived, short_lived = await kit.partner(months=36), await kit.partner(months=12)
    member = uuid.uuid4()
    long_lot = (await kit.earn(member, long_lived, 100)).lot_id
    short_lot = (await kit.earn(member, short_lived, 30)).lot_id
    hold = await kit.hold(member, 50)
    assert (await kit.lot(short_lot)).remaining == 0
    assert (await kit.lot(long_lot)).remaining == 80
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
    assert (await kit.lot(second_lot)).remaining == 10
    balances = await kit.balances(member)
    assert (balances.available, balances.held, balances.lifetime_spent) == (10, 0, 90)
    posted = await kit.postings(capture.transaction_id)
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
    assert (await get_hold(kit.db, SERVICE, hold.id)).status == "EXPIRED"
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
    assert (await kit.lot(lot)).remaining == 100
    balances = await kit.balances(member)
    assert (balances.available, balances.lifetime_spent) == (100, 0)
    # All of it refunded: the settlement nets to exactly zero.
    async with kit.db.engine.connect() as c:
        net = (await c.execute(select(text("sum(amount_minor)")).select_from(SETTLEMENTS))).scalar_one()
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
        grace = (await c.execute(select(LOTS).where(LOTS.c.source == "GRACE"))).one()
    assert (grace.issuer_partner_id, grace.remaining, grace.amount) == (issuer.id, 30, 30)
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
