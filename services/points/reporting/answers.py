"""What reporting answers. Balances are the ledger's (`ledger.answers.Balances`) and transactions
the chain's (`ledger.chain.Transaction`): one answer type per concept."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass(frozen=True, slots=True)
class Expiring:
    on: date  # UTC
    points: int


@dataclass(frozen=True, slots=True)
class LotAnswer:
    """A lot as its member sees it, with where it stands (`rules.lot_status`)."""

    id: uuid.UUID
    issuer_partner_id: uuid.UUID | None
    cost_per_point_minor: int
    currency: str | None
    amount: int
    remaining: int
    status: str
    source: str
    earned_at: datetime
    vests_at: datetime
    expires_at: datetime
    purchase_id: uuid.UUID | None
    origin_lot_id: uuid.UUID | None
    member_id: uuid.UUID
    created_at: datetime


@dataclass(frozen=True, slots=True)
class MoneyAmount:
    currency: str
    amount_minor: int


@dataclass(frozen=True, slots=True)
class ForecastMonth:
    month: str  # YYYY-MM (UTC)
    points: int
    value: list[MoneyAmount]


@dataclass(frozen=True, slots=True)
class PartnerFigures:
    partner_id: uuid.UUID
    points_issued: int = 0
    outstanding_points: int = 0
    outstanding_value: list[MoneyAmount] = field(default_factory=list)
    breakage_points: int = 0
    breakage_value: list[MoneyAmount] = field(default_factory=list)
    redeemed_points: int = 0
    expiry_forecast: list[ForecastMonth] = field(default_factory=list)
