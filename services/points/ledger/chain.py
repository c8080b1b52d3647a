"""The hash chain: each transaction's hash covers its content and the previous transaction's hash.

There is one chain per member (every ledger transaction concerns exactly one member). A single
global chain would make every operation in the alliance wait for the one before it; a chain per
member is extended under the member's row lock, which operations take anyway, so the chain costs
no extra contention and members proceed in parallel. The member's row keeps the chain's length and
head, so a truncated tail is caught as well as an altered or removed transaction.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson


@dataclass(frozen=True, slots=True)
class Leg:
    """One posting: `amount` points to `account` (negative: from it), moving points of `lot_id`."""

    account: str
    amount: int
    lot_id: uuid.UUID | None = None


def canonical_time(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def transaction_hash(
    prev_hash: str,
    *,
    id: uuid.UUID,
    member_id: uuid.UUID,
    sequence: int,
    kind: str,
    actor: str,
    reference: str | None,
    detail: dict[str, Any] | None,
    created_at: datetime,
    legs: Iterable[Leg],
) -> str:
    """SHA-256 over the previous hash and a canonical JSON of the content (postings sorted, so the
    hash does not depend on the order rows come back from the database)."""
    content = {
        "id": str(id),
        "member": str(member_id),
        "seq": sequence,
        "kind": kind,
        "actor": actor,
        "ref": reference,
        "detail": detail,
        "at": canonical_time(created_at),
        "postings": sorted(
            ([leg.account, leg.amount, str(leg.lot_id) if leg.lot_id else None] for leg in legs),
            key=lambda p: (p[0], p[2] or "", p[1]),
        ),
    }
    digest = hashlib.sha256(prev_hash.encode())
    digest.update(orjson.dumps(content, option=orjson.OPT_SORT_KEYS))
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class BrokenLink:
    member_id: uuid.UUID
    sequence: int
    transaction_id: uuid.UUID | None
    reason: str
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Transaction:
    """A stored ledger transaction with its legs: what the chain hashes, and what reads answer."""

    id: uuid.UUID
    member_id: uuid.UUID
    sequence: int
    kind: str
    actor: str
    reference: str | None
    detail: dict[str, Any] | None
    created_at: datetime
    prev_hash: str
    hash: str
    legs: Sequence[Leg]


def first_broken_link(
    member_id: uuid.UUID,
    transactions: Sequence[Transaction],
    *,
    genesis: str,
    head_length: int,
    head_hash: str,
) -> BrokenLink | None:
    """Walks one member's chain (ordered by sequence); the first link that does not hold, if any."""
    expected_prev = genesis
    for position, tx in enumerate(transactions, start=1):
        if tx.sequence != position:
            return BrokenLink(member_id, position, tx.id, f"sequence {tx.sequence} where {position} was expected (a transaction is missing)", tx.created_at)
        if tx.prev_hash != expected_prev:
            return BrokenLink(member_id, tx.sequence, tx.id, "prev_hash does not match the previous transaction's hash", tx.created_at)
        recomputed = transaction_hash(
            tx.prev_hash,
            id=tx.id,
            member_id=tx.member_id,
            sequence=tx.sequence,
            kind=tx.kind,
            actor=tx.actor,
            reference=tx.reference,
            detail=tx.detail,
            created_at=tx.created_at,
            legs=tx.legs,
        )
        if recomputed != tx.hash:
            return BrokenLink(member_id, tx.sequence, tx.id, "content does not match its hash (altered)", tx.created_at)
        expected_prev = tx.hash
    if len(transactions) != head_length or expected_prev != head_hash:
        return BrokenLink(
            member_id,
            len(transactions) + 1,
            None,
            f"the chain ends at {len(transactions)} but the account's head says {head_length} (transactions removed)",
        )
    return None
