"""What the catalogue's operations answer: a benefit as one viewer may see it, a budget, and a
member's verdict on a benefit. The GraphQL types are made from these."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from services.benefits.catalogue.rules import BenefitFacts, Reason


@dataclass(frozen=True, slots=True)
class BenefitView:
    id: uuid.UUID
    partner_id: uuid.UUID
    kind: str
    delivery: str
    status: str
    title: str
    description: str
    image_url: str | None
    categories: tuple[str, ...]
    tags: tuple[str, ...]
    points_price: int
    # What the owner is paid per redemption: None for viewers who may not see it (members, other partners).
    settlement_minor: int | None
    currency: str
    face_value_minor: int | None
    terms: str | None
    validity_days: int | None
    valid_until: datetime | None
    platform: str | None
    duration_days: int | None
    min_tier: str | None
    available_from: datetime | None
    available_until: datetime | None
    limit_per_day: int | None
    limit_per_month: int | None
    limit_lifetime: int | None
    stock_total: int | None
    birthday_perk: bool
    # Days after a redemption in which the member may ask for its refund (None: only operators refund).
    refund_window_days: int | None
    created_at: datetime
    updated_at: datetime
    # Whatever stops anyone from redeeming it now (empty: redeemable now).
    unavailable: tuple[Reason, ...]

    @property
    def redeemable_now(self) -> bool:
        return not self.unavailable


@dataclass(frozen=True, slots=True)
class BudgetView:
    id: uuid.UUID
    scope: str  # BENEFIT or PARTNER
    partner_id: uuid.UUID
    benefit_id: uuid.UUID | None
    period: str
    period_start: datetime
    limit_minor: int
    currency: str
    reserved_minor: int
    spent_minor: int
    thresholds_percent: tuple[int, ...]
    alerted_percent: tuple[int, ...]
    hard_stop: bool
    updated_at: datetime

    @property
    def remaining_minor(self) -> int:
        return max(self.limit_minor - self.reserved_minor - self.spent_minor, 0)


@dataclass(frozen=True, slots=True)
class EligibleBenefit:
    """One benefit as one member sees it: whether they can redeem it now and, if not, why."""

    benefit: BenefitView
    reasons: tuple[Reason, ...]
    interest: int

    @property
    def redeemable(self) -> bool:
        return not self.reasons


@dataclass(frozen=True, slots=True)
class BudgetHold:
    """What `reserve_budget` took: the budgets it counted the amount against (none: no budget applies)."""

    budget_ids: tuple[uuid.UUID, ...]
    thresholds_fired: tuple[tuple[uuid.UUID, int], ...] = ()


__all__ = ["BenefitFacts", "BenefitView", "BudgetHold", "BudgetView", "EligibleBenefit", "Reason"]
