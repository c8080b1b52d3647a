"""Spending's rows: holds, what each took from which lot, and settlement lines."""

from __future__ import annotations

import uuid
from datetime import datetime

from services.points.models import Hold, HoldAllocation, Settlement
from services.points.spending.answers import HoldAnswer
from shared.database import TrackedRow


class HoldRow(TrackedRow):
    TABLE = Hold.__table__

    id: uuid.UUID
    member_id: uuid.UUID
    amount: int
    captured: int
    released: int
    refunded: int
    status: str
    reference: str
    expires_at: datetime
    beneficiary_partner_id: uuid.UUID | None
    settlement_value_minor: int | None
    settlement_currency: str | None
    created_by: str
    created_at: datetime
    closed_at: datetime | None

    def answer(self) -> HoldAnswer:
        return HoldAnswer(**{name: getattr(self, name) for name in HoldAnswer.model_fields})


class AllocationRow(TrackedRow):
    """How much of one lot a hold reserved, captured and had refunded (with settlement value)."""

    TABLE = HoldAllocation.__table__

    hold_id: uuid.UUID
    lot_id: uuid.UUID
    amount: int
    captured: int
    refunded: int
    settled_minor: int
    refunded_minor: int


class SettlementRow(TrackedRow):
    """What a lot's issuer owes a beneficiary for points redeemed (negative: a refund's reversal)."""

    TABLE = Settlement.__table__

    transaction_id: uuid.UUID
    hold_id: uuid.UUID
    lot_id: uuid.UUID
    issuer_partner_id: uuid.UUID | None
    beneficiary_partner_id: uuid.UUID
    points: int
    amount_minor: int
    currency: str
    created_at: datetime
