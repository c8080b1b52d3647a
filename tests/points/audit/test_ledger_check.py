"""The ledger check finds what disagrees."""

from __future__ import annotations

from sqlalchemy import text

from services.points.audit.service import ledger_check
from shared.auth import OPERATOR as OPERATOR_ROLE
from shared.auth import Principal, PrincipalKind

OPERATOR = Principal(PrincipalKind.STAFF, "ops-1", frozenset({OPERATOR_ROLE}))


async def test_the_ledger_check_finds_a_balance_that_disagrees(kit) -> None:  # noqa: ANN001
    member = await kit.member(10)
    async with kit.db.engine.begin() as c:
        await c.execute(text("UPDATE points.member_accounts SET available = available + 5 WHERE member_id = :m"), {"m": member})
    check = await ledger_check(kit.db, OPERATOR)
    assert not check.ok
    assert any(str(member) in problem and "available" in problem for problem in check.problems)
