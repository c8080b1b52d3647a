"""Ledger postings: lock a member's account row, post balanced transactions, extend the chain.

Every operation on a member's points starts with `lock_members`: `SELECT … FOR UPDATE` on their
`member_accounts` rows (sorted by id, so two operations over several members never deadlock).
That serialises one member's operations (200 concurrent holds on one member queue up and each
sees the balance the previous one left) while different members proceed in parallel. Everything
the operation then reads about the member's lots and holds is current: every writer of those rows
holds the same lock.

`post` checks a transaction balances, applies it to the member's balances in memory (refusing a
negative balance: a bug, not a user error, since operations check funds first), hashes it onto
the member's chain and buffers the rows; `finish` writes the balances and flushes the unit.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Uuid, any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.points import accounts
from services.points.chain import Leg, transaction_hash
from services.points.config import get_points_settings
from shared.database import Prepared
from services.points.models import (
    accounts_t,
    allocations_t,
    holds_t,
    lots_t,
    notices_t,
    postings_t,
    purchases_t,
    returns_t,
    settlements_t,
    transactions_t,
)
from shared.database import TrackedRow, Unit
from shared.errors import NotFound
from shared.ids import new_id

# Rows that reference others are inserted after them.
INSERT_ORDER = (purchases_t, lots_t, transactions_t, postings_t, holds_t, allocations_t, settlements_t, returns_t, notices_t)


class LedgerError(RuntimeError):
    """A posting that would break the ledger's rules: always a bug in the caller."""


@dataclass(eq=False)
class MemberState(TrackedRow):
    """A locked `member_accounts` row, changed in memory and written back at the unit's flush."""

    TABLE = accounts_t

    member_id: uuid.UUID
    tier: str | None
    tier_sequence: int
    birthday_month: int | None
    available: int
    pending: int
    held: int
    debt: int
    lifetime_earned: int
    lifetime_spent: int
    lifetime_expired: int
    chain_length: int
    chain_head: str


@dataclass(frozen=True, slots=True)
class Posted:
    id: uuid.UUID
    member_id: uuid.UUID
    sequence: int
    kind: str
    hash: str


class LedgerUnit(Unit):
    """A unit of work that also knows the member accounts it has locked."""

    def __init__(self, connection: AsyncConnection, now: datetime) -> None:
        super().__init__(connection, now, insert_order=INSERT_ORDER, use_driver=get_points_settings().driver_statements)
        self.members: dict[uuid.UUID, MemberState] = {}

    async def finish(self) -> None:
        """Stamps the changed balances and flushes every buffered row."""
        for state in self.members.values():
            if self.is_changed(state):
                self.update(accounts_t, state.key(), {"updated_at": self.now})
        await self.flush()


_STATE_COLUMNS = [accounts_t.c[name] for name in MemberState.COLUMNS]


_LOCK_ONE = Prepared(select(*_STATE_COLUMNS).where(accounts_t.c.member_id == bindparam("member_id")).with_for_update())
_LOCK_MANY = Prepared(
    select(*_STATE_COLUMNS)
    .where(accounts_t.c.member_id == any_(bindparam("member_ids", type_=ARRAY(Uuid))))
    .order_by(accounts_t.c.member_id)
    .with_for_update()
)
_LOCK_OWNER = {
    table: Prepared(
        select(*_STATE_COLUMNS)
        .where(accounts_t.c.member_id == select(table.c.member_id).where(table.c.id == bindparam("row_id")).scalar_subquery())
        .with_for_update()
    )
    for table in (holds_t, purchases_t)
}


def _remember(unit: LedgerUnit, rows: Iterable[Any]) -> dict[uuid.UUID, MemberState]:
    states = {row.member_id: unit.load(MemberState, row._mapping) for row in rows}
    unit.members.update(states)
    return states


async def lock_members(unit: LedgerUnit, member_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, MemberState]:
    """Locks the accounts of `member_ids` that exist (missing ones are left out of the answer)."""
    ids = sorted(set(member_ids))
    if not ids:
        return {}
    if len(ids) == 1:
        return _remember(unit, await unit.execute(_LOCK_ONE, {"member_id": ids[0]}))
    return _remember(unit, await unit.execute(_LOCK_MANY, {"member_ids": ids}))


async def lock_member(unit: LedgerUnit, member_id: uuid.UUID) -> MemberState:
    states = await lock_members(unit, [member_id])
    if member_id not in states:
        raise NotFound("this member has no points account", memberId=str(member_id))
    return states[member_id]


async def lock_member_of(unit: LedgerUnit, table: Any, row_id: uuid.UUID, what: str) -> MemberState:
    """Locks the account of the member a hold (or purchase) belongs to, in one round trip."""
    states = _remember(unit, await unit.execute(_LOCK_OWNER[table], {"row_id": row_id}))
    if not states:
        raise NotFound(f"no such {what}", **{f"{what}Id": str(row_id)})
    return next(iter(states.values()))


async def ensure_accounts(unit: LedgerUnit, member_ids: Iterable[uuid.UUID]) -> None:
    """Opens an empty account for members points has not seen yet."""
    rows = [{"member_id": member_id} for member_id in sorted(set(member_ids))]
    if rows:
        await unit.execute(insert(accounts_t).values(rows).on_conflict_do_nothing(index_elements=["member_id"]))


def post(
    unit: LedgerUnit,
    state: MemberState,
    *,
    kind: str,
    legs: Sequence[Leg],
    actor: str,
    reference: str | None = None,
    detail: dict[str, Any] | None = None,
    transaction_id: uuid.UUID | None = None,
) -> Posted:
    """Buffers one balanced transaction for the locked member and applies it to their balances."""
    if not legs or sum(leg.amount for leg in legs) != 0:
        raise LedgerError(f"{kind}: postings must exist and sum to zero: {legs}")
    if any(leg.amount == 0 for leg in legs):
        raise LedgerError(f"{kind}: a posting of zero points")
    deltas = {"pending": 0, "available": 0, "held": 0, "debt": 0}
    for leg in legs:
        bucket = accounts.member_bucket(leg.account, state.member_id)
        if bucket is not None:
            deltas[bucket] += leg.amount
        elif leg.account.startswith("member:"):
            raise LedgerError(f"{kind}: a posting to another member's account {leg.account}")
    available = state.available + deltas["available"]
    pending = state.pending + deltas["pending"]
    held = state.held + deltas["held"]
    debt = state.debt - deltas["debt"]  # the debt account is negative while the member owes
    if min(available, pending, held, debt) < 0:
        raise LedgerError(f"{kind}: would leave member {state.member_id} with a negative balance")

    transaction_id = transaction_id or new_id()
    sequence = state.chain_length + 1
    digest = transaction_hash(
        state.chain_head,
        id=transaction_id,
        member_id=state.member_id,
        sequence=sequence,
        kind=kind,
        actor=actor,
        reference=reference,
        detail=detail,
        created_at=unit.now,
        legs=legs,
    )
    unit.insert(
        transactions_t,
        {
            "id": transaction_id,
            "member_id": state.member_id,
            "sequence": sequence,
            "kind": kind,
            "actor": actor,
            "reference": reference,
            "detail": detail,
            "created_at": unit.now,
            "prev_hash": state.chain_head,
            "hash": digest,
        },
    )
    for leg in legs:
        unit.insert(postings_t, {"transaction_id": transaction_id, "account": leg.account, "amount": leg.amount, "lot_id": leg.lot_id})
    state.available, state.pending, state.held, state.debt = available, pending, held, debt
    state.chain_length, state.chain_head = sequence, digest
    return Posted(transaction_id, state.member_id, sequence, kind, digest)
