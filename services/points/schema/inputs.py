"""Strawberry inputs of the points subgraph; `PurchaseInput.domain()` reads one into the earning
layer's input (a bad id is that item's error, not the whole call's)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from services.points.earning.rules import PurchaseInput as Purchase
from shared.federation.scalars import Long
from shared.ids import parse_id


@strawberry.input(description="A purchase at an earning partner; (partnerId, externalId) identifies it.")
class PurchaseInput:
    partner_id: strawberry.ID
    member_id: strawberry.ID
    external_id: str = strawberry.field(description="The partner's own id of the purchase: recording it again changes nothing.")
    amount_minor: int
    currency: str
    occurred_at: datetime
    category: str | None = None

    def domain(self) -> Purchase:
        return Purchase(
            partner_id=parse_id(self.partner_id, "partnerId"), member_id=parse_id(self.member_id, "memberId"),
            external_id=self.external_id, amount_minor=self.amount_minor, currency=self.currency,
            occurred_at=self.occurred_at, category=self.category,
        )


@strawberry.input
class ReturnInput:
    partner_id: strawberry.ID
    external_id: str = strawberry.field(description="The purchase's external id.")
    amount_minor: int = strawberry.field(description="The amount returned (of the purchase's amount).")
    currency: str
    idempotency_key: str = strawberry.field(description="The partner's id of this return.")


@strawberry.input
class HoldInput:
    member_id: strawberry.ID
    points: int
    ttl_seconds: int = strawberry.field(description="After this the hold releases itself.")
    reference: str = strawberry.field(description="The caller's reference, e.g. the redemption id.")
    idempotency_key: str


@strawberry.input(description="Who is paid for the captured points and how much in all.")
class SettlementInput:
    beneficiary_partner_id: strawberry.ID
    value_minor: int
    currency: str


@strawberry.input
class CaptureInput:
    hold_id: strawberry.ID
    points: int = strawberry.field(description="At most what the hold reserved; the rest is released.")
    settlement: SettlementInput
    idempotency_key: str


@strawberry.input
class RefundInput:
    hold_id: strawberry.ID
    points: int
    reason: str | None = None
    idempotency_key: str


@strawberry.input
class AdjustInput:
    member_id: strawberry.ID
    points: int = strawberry.field(description="Positive to credit, negative to debit.")
    reason: str
    issuer_partner_id: strawberry.ID | None = strawberry.field(default=None, description="Who funds a credit; the alliance if null.")
    idempotency_key: str


@strawberry.input
class PointsProgramInput:
    partner_id: strawberry.ID
    currency: str
    name: str | None = None
    earning_enabled: bool = True
    earn_points: int = 1
    earn_per_minor: int = 100
    return_window_days: int | None = None
    expiry_months: int | None = None
    cost_per_point_minor: int = 0
    max_purchase_minor: Long | None = strawberry.field(
        default=None, description="Largest purchase amount accepted (minor units); null: the alliance default."
    )
    max_points_per_member_day: Long | None = strawberry.field(
        default=None, description="Most points one member earns from this partner per UTC day; null: the alliance default."
    )
    max_purchase_age_days: int | None = strawberry.field(
        default=None, description="Oldest purchase accepted, in days; null: the alliance default."
    )


@strawberry.input
class TierMultiplierInput:
    tier: str
    multiplier_bps: int


@strawberry.input
class CampaignInput:
    name: str
    multiplier_bps: int = strawberry.field(description="10000 = 1x.")
    starts_at: datetime
    ends_at: datetime
    partner_id: strawberry.ID | None = None
    category: str | None = None
