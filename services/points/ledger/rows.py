"""The ledger's rows (one type per table) and the typed value of a credit to make.

Rows are tracked by the unit of work: assigning a field of a loaded row is what writes it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.points.ledger.accounts import MemberBucket
from services.points.models import LedgerTransaction, Lot, MemberAccount, Posting
from shared.database import TrackedRow

# Where a lot came from.
PURCHASE = "PURCHASE"
ADJUSTMENT = "ADJUSTMENT"
GRACE = "GRACE"  # refunded points whose original lot had expired


class AccountRow(TrackedRow):
    """A member's account, locked for the operation: balances, tier, birthday month, chain head."""

    TABLE = MemberAccount.__table__

    member_id: uuid.UUID
    tier: str | None
    tier_sequence: int
    birthday_month: int | None
    status: str
    available: int
    pending: int
    held: int
    debt: int
    lifetime_earned: int
    lifetime_spent: int
    lifetime_expired: int
    chain_length: int
    chain_head: str


class LotRow(TrackedRow):
    """Points credited together, with their provenance; `remaining` are still the member's."""

    TABLE = Lot.__table__

    id: uuid.UUID
    member_id: uuid.UUID
    issuer_partner_id: uuid.UUID | None
    cost_per_point_minor: int
    currency: str | None
    amount: int
    remaining: int
    earned_at: datetime
    vests_at: datetime
    expires_at: datetime
    vested_at: datetime | None
    expired_at: datetime | None
    source: str
    purchase_id: uuid.UUID | None
    origin_lot_id: uuid.UUID | None
    created_tx_id: uuid.UUID | None
    created_at: datetime

    @property
    def bucket(self) -> MemberBucket:
        """The member account this lot's remaining points sit in."""
        return "available" if self.vested_at is not None else "pending"

    def is_live(self, now: datetime) -> bool:
        """Not expired, neither by the job nor by the clock (the job may not have run yet)."""
        return self.expired_at is None and self.expires_at > now


class TransactionRow(TrackedRow):
    """One ledger transaction as written (append-only; its legs are `PostingRow`s)."""

    TABLE = LedgerTransaction.__table__

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


class PostingRow(TrackedRow):
    TABLE = Posting.__table__

    transaction_id: uuid.UUID
    account: str
    amount: int
    lot_id: uuid.UUID | None


@dataclass(frozen=True, slots=True)
class Credit:
    """New points to issue into a new lot of a member: who issues them, on what terms, and why.

    `issuer_partner_id` None: funded by the alliance. `lot_id` and `origin_lot_id` when the caller
    has chosen the lot's id already, or the lot replaces an expired one (refunds)."""

    issuer_partner_id: uuid.UUID | None
    cost_per_point_minor: int
    currency: str | None
    amount: int
    earned_at: datetime
    vests_at: datetime
    expires_at: datetime
    source: str
    purchase_id: uuid.UUID | None = None
    origin_lot_id: uuid.UUID | None = None
    lot_id: uuid.UUID | None = None
