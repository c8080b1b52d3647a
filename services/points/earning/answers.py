"""What earning's operations answer. Stored as JSON with their idempotency keys where they have
one, so replays get exactly the first answer back; the earning policy and campaigns answer as
the rules read them (`rules.EarningPolicy`, `rules.CampaignRule`)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel


class PurchaseAnswer(BaseModel):
    """A purchase as recorded, and the points it earned (as the first recording said it)."""

    purchase_id: uuid.UUID
    partner_id: uuid.UUID
    external_id: str
    member_id: uuid.UUID
    amount_minor: int
    currency: str
    occurred_at: datetime
    category: str | None
    points: int
    pending: bool  # the lot was pending when the purchase was recorded
    vests_at: datetime | None
    expires_at: datetime | None
    lot_id: uuid.UUID | None
    transaction_id: uuid.UUID | None
    rule: dict
    returned_minor: int
    points_clawed_back: int
    created_at: datetime


class ReturnAnswer(BaseModel):
    return_id: uuid.UUID
    purchase_id: uuid.UUID
    amount_minor: int
    points_clawed_back: int
    from_purchase_lot: int
    from_other_lots: int
    as_debt: int
    transaction_id: uuid.UUID | None


class AdjustAnswer(BaseModel):
    member_id: uuid.UUID
    points: int
    transaction_id: uuid.UUID
    lot_id: uuid.UUID | None
