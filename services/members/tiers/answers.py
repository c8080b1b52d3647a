"""What the tier operations take and answer."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime


class GrowthKind(str, enum.Enum):
    PURCHASE = "PURCHASE"  # spend: growth per currency unit
    RETURN = "RETURN"  # a refund takes back the growth of the amount refunded
    REVIEW = "REVIEW"  # interactions: a fixed growth value each, set in the policy
    REFERRAL = "REFERRAL"


@dataclass(frozen=True)
class GrowthInput:
    event_id: str
    member_id: uuid.UUID
    kind: GrowthKind
    occurred_at: datetime
    amount_minor: int | None = None
    currency: str | None = None


@dataclass(frozen=True)
class GrowthResult:
    event_id: str
    member_id: uuid.UUID
    growth: int  # what this event is worth (also when it was a redelivery)
    duplicate: bool  # seen before: nothing changed this time
    previous_tier: str
    tier: str
    rolling_growth: int


@dataclass(frozen=True)
class Tier:
    code: str
    threshold: int  # rolling growth needed to hold the tier


@dataclass(frozen=True)
class PolicyView:
    """A version of the tier policy; who made it and why only for those who may see it."""

    version: int
    tiers: tuple[Tier, ...]
    window_months: int
    grace_days: int
    purchase_growth_per_unit: int
    review_growth: int
    referral_growth: int
    created_at: datetime | None
    created_by: str | None
    note: str | None


@dataclass(frozen=True)
class PolicyChange:
    """A partial change of the policy; None keeps the current value."""

    tiers: Sequence[tuple[str, int]] | None = None
    window_months: int | None = None
    grace_days: int | None = None
    purchase_growth_per_unit: int | None = None
    review_growth: int | None = None
    referral_growth: int | None = None
    note: str | None = None


@dataclass(frozen=True)
class TierProgress:
    tier: str
    rolling_growth: int
    window_start: datetime
    window_end: datetime
    next_tier: str | None  # None at the top tier
    growth_to_next_tier: int | None
    growth_to_keep_tier: int  # 0 when the member already holds enough
    below_threshold_since: datetime | None
    downgrade_review_from: datetime | None  # first review that may downgrade, while below
    policy_version: int


@dataclass(frozen=True)
class TierChangeView:
    """One change of a member's tier (a row of the tier history)."""

    sequence: int
    from_tier: str | None
    to_tier: str
    reason: str  # JOINED, UPGRADE or DOWNGRADE
    rolling_growth: int
    policy_version: int
    occurred_at: datetime


@dataclass(frozen=True)
class ReviewSummary:
    as_of: datetime
    reviewed: int = 0
    upgraded: int = 0
    marked: int = 0  # found below their tier for the first time: the grace period starts
    downgraded: int = 0
    cleared: int = 0  # back above their tier's threshold during the grace period

    def __add__(self, other: ReviewSummary) -> ReviewSummary:
        return ReviewSummary(
            self.as_of,
            *(getattr(self, f) + getattr(other, f) for f in ("reviewed", "upgraded", "marked", "downgraded", "cleared")),
        )

