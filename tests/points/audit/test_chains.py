"""The hash chain: intact chains verify; an altered, removed or truncated transaction is found at
its first broken link."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy import select, text

from services.points.audit.service import verify_chains
from services.points.models import LedgerTransaction
from shared.auth import OPERATOR as OPERATOR_ROLE
from shared.auth import Principal, PrincipalKind

OPERATOR = Principal(PrincipalKind.STAFF, "ops", frozenset({OPERATOR_ROLE}))
TRANSACTIONS = LedgerTransaction.__table__


async def _chain(kit, member: uuid.UUID) -> list:  # noqa: ANN001
    async with kit.db.engine.connect() as c:
        return (await c.execute(select(TRANSACTIONS).where(TRANSACTIONS.c.member_id == member).order_by(TRANSACTIONS.c.sequence))).all()


async def _tamper(kit, statement: str, **params: object) -> None:  # noqa: ANN001
    """Changes ledger rows behind the service's back (the append-only trigger switched off, as an
    attacker with database access could)."""
    async with kit.db.engine.begin() as c:
        await c.execute(text("SET LOCAL session_replication_role = replica"))
        await c.execute(text(statement), params)


async def _member_with_five_transactions(kit) -> uuid.UUID:  # noqa: ANN001
    partner = await kit.partner()
    member = uuid.uuid4()
    for points in (10, 20, 30):
        await kit.earn(member, partner, points)
    hold = await kit.hold(member, 15)
    await kit.release(hold.id)
    return member


async def test_chains_link_every_transaction_to_the_previous_one(kit) -> None:  # noqa: ANN001
    member = await _member_with_five_transactions(kit)
    other = await _member_with_five_transactions(kit)
    chain = await _chain(kit, member)
    assert [t.sequence for t in chain] == [1, 2, 3, 4, 5]
    assert chain[0].prev_hash == "0" * 64
    assert all(b.prev_hash == a.hash for a, b in zip(chain, chain[1:]))
    result = await verify_chains(kit.db, OPERATOR)
    assert result.ok and result.chains == 2 and result.transactions == 10
    assert other != member


Tamper = Callable[[object, list], Awaitable[None]]


async def _alter_posting(kit, chain) -> None:  # noqa: ANN001
    await _tamper(kit, "UPDATE points.postings SET amount = amount + 1 WHERE transaction_id = :t AND amount > 0", t=chain[2].id)


async def _alter_reference(kit, chain) -> None:  # noqa: ANN001
    await _tamper(kit, "UPDATE points.ledger_transactions SET reference = 'forged' WHERE id = :t", t=chain[2].id)


async def _remove_transaction(kit, chain) -> None:  # noqa: ANN001
    await _tamper(kit, "DELETE FROM points.postings WHERE transaction_id = :t", t=chain[2].id)
    await _tamper(kit, "DELETE FROM points.ledger_transactions WHERE id = :t", t=chain[2].id)


@pytest.mark.parametrize("tamper", [_alter_posting, _alter_reference, _remove_transaction])
async def test_tampering_is_found_at_the_first_broken_link(kit, tamper: Tamper) -> None:  # noqa: ANN001
    member = await _member_with_five_transactions(kit)
    untouched = await _member_with_five_transactions(kit)
    chain = await _chain(kit, member)
    await tamper(kit, chain)
    result = await verify_chains(kit.db, OPERATOR)
    assert not result.ok
    (broken,) = result.broken
    assert broken.member_id == member and broken.sequence == 3
    assert result.first_broken_link == broken
    assert untouched not in {b.member_id for b in result.broken}


async def test_a_truncated_tail_is_found(kit) -> None:  # noqa: ANN001
    member = await _member_with_five_transactions(kit)
    last = (await _chain(kit, member))[-1]
    await _tamper(kit, "DELETE FROM points.postings WHERE transaction_id = :t", t=last.id)
    await _tamper(kit, "DELETE FROM points.ledger_transactions WHERE id = :t", t=last.id)
    result = await verify_chains(kit.db, OPERATOR)
    (broken,) = result.broken
    assert broken.member_id == member and broken.sequence == 5 and "removed" in broken.reason
