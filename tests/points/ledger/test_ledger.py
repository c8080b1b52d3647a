"""The ledger core through the service layer on real PostgreSQL: credits into lots from their
issuers, vesting, expiry to breakage, and an append-only ledger; the invariants after each."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from services.points.models import Posting
from shared.errors import InsufficientPoints
from shared.timeutil import utcnow

POSTINGS = Posting.__table__


async def test_a_purchase_credits_a_lot_from_the_issuer_with_balanced_postings(kit) -> None:  # noqa: ANN001
    partner = await kit.partner(cost=2)
    member = uuid.uuid4()
    answer = await kit.earn(member, partner, 120)
    assert answer.points == 120 and not answer.pending
    assert (await kit.balances(member)).available == 120
    assert await kit.postings(answer.transaction_id) == sorted(
        [(f"issuer:{partner.id}:issued", -120, answer.lot_id), (f"member:{member}:available", 120, answer.lot_id)]
    )
    lot = await kit.lot(answer.lot_id)
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
            await c.execute(select(text("sum(amount)")).select_from(POSTINGS).where(POSTINGS.c.account == f"issuer:{short.id}:breakage"))
        ).scalar_one()
    assert breakage == 70
    await kit.assert_consistent()


async def test_the_ledger_is_append_only(kit) -> None:  # noqa: ANN001
    await kit.member(10)
    for statement in ("UPDATE points.postings SET amount = amount * 2", "DELETE FROM points.ledger_transactions"):
        with pytest.raises(Exception, match="append-only"):
            async with kit.db.engine.begin() as c:
                await c.execute(text(statement))
