"""What spending's operations answer. Stored as JSON with the idempotency key, so a replay gets
exactly the first answer back."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel


class HoldAnswer(BaseModel):
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


class SettlementLine(BaseModel):
    lot_id: uuid.UUID
    issuer_partner_id: uuid.UUID | None
    beneficiary_partner_id: uuid.UUID
    points: int
    amount_minor: int
    currency: str


class CaptureAnswer(BaseModel):
    hold: HoldAnswer
    transaction_id: uuid.UUID
    settlements: list[SettlementLine]


class ReleaseAnswer(BaseModel):
    hold: HoldAnswer
    transaction_id: uuid.UUID


class RefundAnswer(BaseModel):
    hold: HoldAnswer
    transaction_id: uuid.UUID
    points_refunded: int
    to_original_lots: int
    to_grace_lots: int
    grace_lot_expires_at: datetime | None
    settlements: list[SettlementLine]


@dataclass(frozen=True, slots=True)
class StatementLine:
    """One counterparty's settlement with a partner over a period, in one currency."""

    counterparty_id: uuid.UUID | None  # None: the alliance (alliance-funded lots)
    currency: str
    points_redeemed_by_counterparty: int  # points the partner's own lots lost at the counterparty
    payable_minor: int  # what the partner owes the counterparty (its lots redeemed there)
    points_redeemed_at_partner: int  # points of the counterparty's lots redeemed at the partner
    receivable_minor: int  # what the counterparty owes the partner
    net_minor: int  # receivable - payable: positive, the counterparty pays the partner
