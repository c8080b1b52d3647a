"""What operations answer. Stored as JSON with the idempotency key, so a replay gets exactly the
first answer back (`model_dump(mode="json")` in, `model_validate` out)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel


class Answer(BaseModel):
    def to_json(self) -> dict:
        return self.model_dump(mode="json")


class HoldView(Answer):
    id: uuid.UUID
    member_id: uuid.UUID
    amount: int
    captured: int
    released: int
    refunded: int
    status: str
    reference: str
    expires_at: datetime
    created_at: datetime
    beneficiary_partner_id: uuid.UUID | None = None
    settlement_value_minor: int | None = None
    settlement_currency: str | None = None


class SettlementLine(Answer):
    lot_id: uuid.UUID
    issuer_partner_id: uuid.UUID | None
    beneficiary_partner_id: uuid.UUID
    points: int
    amount_minor: int
    currency: str


class CaptureAnswer(Answer):
    hold: HoldView
    transaction_id: uuid.UUID
    settlements: list[SettlementLine]


class ReleaseAnswer(Answer):
    hold: HoldView
    transaction_id: uuid.UUID


class RefundAnswer(Answer):
    hold: HoldView
    transaction_id: uuid.UUID
    points_refunded: int
    to_original_lots: int
    to_grace_lots: int
    grace_lot_expires_at: datetime | None
    settlements: list[SettlementLine]


class PurchaseAnswer(Answer):
    purchase_id: uuid.UUID
    partner_id: uuid.UUID
    external_id: str
    member_id: uuid.UUID
    points: int
    pending: bool
    vests_at: datetime | None
    expires_at: datetime | None
    lot_id: uuid.UUID | None
    transaction_id: uuid.UUID | None
    rule: dict


class ReturnAnswer(Answer):
    return_id: uuid.UUID
    purchase_id: uuid.UUID
    amount_minor: int
    points_clawed_back: int
    from_purchase_lot: int
    from_other_lots: int
    as_debt: int
    transaction_id: uuid.UUID | None


class AdjustAnswer(Answer):
    member_id: uuid.UUID
    points: int
    transaction_id: uuid.UUID
    lot_id: uuid.UUID | None
