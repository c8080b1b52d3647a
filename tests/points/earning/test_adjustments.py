"""Operators' adjustments: audited credits and debits on the ledger."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from services.points.earning import service as earning
from services.points.models import LedgerTransaction
from shared.auth import OPERATOR as OPERATOR_ROLE
from shared.auth import Principal, PrincipalKind
from shared.errors import InsufficientPoints

OPERATOR = Principal(PrincipalKind.STAFF, "ops-1", frozenset({OPERATOR_ROLE}))
TRANSACTIONS = LedgerTransaction.__table__


async def test_operator_adjustments_are_audited_credits_and_debits(kit) -> None:  # noqa: ANN001
    member = await kit.member(10)
    credit = await earning.adjust_points(
        kit.db, OPERATOR, member_id=member, points=25, reason="goodwill for a late delivery", idempotency_key="a1"
    )
    debit = await earning.adjust_points(
        kit.db, OPERATOR, member_id=member, points=-5, reason="duplicate credit", idempotency_key="a2"
    )
    assert (await kit.balances(member)).available == 30
    async with kit.db.engine.connect() as c:
        rows = (await c.execute(select(TRANSACTIONS).where(TRANSACTIONS.c.id.in_([credit.transaction_id, debit.transaction_id])))).all()
    assert {(r.kind, r.actor, r.detail["reason"]) for r in rows} == {
        ("ADJUST", "staff:ops-1", "goodwill for a late delivery"),
        ("ADJUST", "staff:ops-1", "duplicate credit"),
    }
    assert (f"issuer:alliance:issued", -25, credit.lot_id) in await kit.postings(credit.transaction_id)
    with pytest.raises(InsufficientPoints):
        await earning.adjust_points(kit.db, OPERATOR, member_id=member, points=-31, reason="too much", idempotency_key="a3")
    assert (await kit.balances(member)).available == 30
    await kit.assert_consistent()
