"""What the figures answer: totals over a period, and the same per partner and per benefit."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Settlement:
    """Settlement value in one currency (minor units): owed for completions, reversed by refunds."""

    currency: str
    completed_minor: int
    refunded_minor: int


@dataclass(frozen=True, slots=True)
class PartnerFigures:
    partner_id: uuid.UUID
    completed: int
    points_redeemed: int
    refunds: int
    points_refunded: int
    settlement: tuple[Settlement, ...]


@dataclass(frozen=True, slots=True)
class BenefitFigures:
    benefit_id: uuid.UUID
    partner_id: uuid.UUID
    completed: int
    codes_issued: int
    codes_used: int
    codes_voided: int
    usage_rate: float | None


@dataclass(frozen=True, slots=True)
class Figures:
    start: datetime
    end: datetime
    started: int
    completed: int
    failed: int
    refunded: int
    needing_attention: int
    members_redeemed: int
    points_redeemed: int
    points_refunded: int
    refund_rate: float | None
    partners: tuple[PartnerFigures, ...]
    benefits: tuple[BenefitFigures, ...]
