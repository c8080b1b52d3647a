"""What the ledger's operations answer: a member's balances, and what an upkeep run did."""

from __future__ import annotations

import uuid
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Balances:
    """A member's points as their account says (zero for a member points has not seen)."""

    member_id: uuid.UUID
    available: int = 0
    pending: int = 0
    held: int = 0
    debt: int = 0
    lifetime_earned: int = 0
    lifetime_spent: int = 0
    lifetime_expired: int = 0
    tier: str | None = None
    birthday_month: int | None = None


@dataclass(frozen=True, slots=True)
class LotsDone:
    """What a run of vesting or expiry did: members and lots handled, points moved."""

    members: int = 0
    lots: int = 0
    points: int = 0
