"""Posting to the ledger: the unit of work of every points operation, and balanced transactions.

Every operation on a member's points first locks the member's account row (see `store`), which
serialises one member's operations while different members proceed in parallel; everything the
operation then reads about the member's lots and holds is current, since every writer of those rows
holds the same lock.

`post` checks a transaction balances, applies it to the member's balances in memory (refusing a
negative balance: a bug, not a user error, since operations check funds first), hashes it onto the
member's chain and buffers the rows; `LedgerUnit.finish` stamps the changed accounts and flushes.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from services.points.config import get_points_settings
from services.points.ledger import accounts
from services.points.ledger.chain import Leg, transaction_hash
from services.points.ledger.rows import AccountRow, PostingRow, TransactionRow
from services.points.models import (
    ExpiryNotice,
    Hold,
    HoldAllocation,
    LedgerTransaction,
    Lot,
    MemberAccount,
    Posting,
    Purchase,
    PurchaseReturn,
    Settlement,
)
from shared.database import Unit
from shared.ids import new_id

# Rows that reference others are inserted after them.
INSERT_ORDER = tuple(
    model.__table__
    for model in (Purchase, Lot, LedgerTransaction, Posting, Hold, HoldAllocation, Settlement, PurchaseReturn, ExpiryNotice)
)


class LedgerError(RuntimeError):
    """A posting that would break the ledger's rules: always a bug in the caller."""


class LedgerUnit(Unit):
    """The unit of work of a points operation: its tables' insert order, and accounts stamped."""

    def __init__(self, connection: AsyncConnection, now: datetime) -> None:
        super().__init__(connection, now, insert_order=INSERT_ORDER, use_driver=get_points_settings().driver_statements)

    async def finish(self) -> None:
        """Stamps the changed accounts (the ones locked, see `store`) and flushes every buffered row."""
        for state in self.tracked(AccountRow):
            if self.is_changed(state):
                self.update(MemberAccount.__table__, state.key(), {"updated_at": self.now})
        await self.flush()


def post(
    unit: LedgerUnit,
    state: AccountRow,
    *,
    kind: str,
    legs: Sequence[Leg],
    actor: str,
    reference: str | None = None,
    detail: dict[str, Any] | None = None,
    transaction_id: uuid.UUID | None = None,
) -> TransactionRow:
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
    transaction = unit.add(
        TransactionRow(
            id=transaction_id,
            member_id=state.member_id,
            sequence=sequence,
            kind=kind,
            actor=actor,
            reference=reference,
            detail=detail,
            created_at=unit.now,
            prev_hash=state.chain_head,
            hash=digest,
        )
    )
    for leg in legs:
        unit.add(PostingRow(transaction_id, leg.account, leg.amount, leg.lot_id))
    state.available, state.pending, state.held, state.debt = available, pending, held, debt
    state.chain_length, state.chain_head = sequence, digest
    return transaction
