"""Earning's rows: purchases and their returns."""

from __future__ import annotations

import uuid
from datetime import datetime

from services.points.models import Purchase, PurchaseReturn
from shared.database import TrackedRow


class PurchaseRow(TrackedRow):
    TABLE = Purchase.__table__

    id: uuid.UUID
    partner_id: uuid.UUID
    external_id: str
    member_id: uuid.UUID
    amount_minor: int
    currency: str
    occurred_at: datetime
    category: str | None
    fingerprint: str  # of the input: a replay with other content is refused, not accepted
    points_earned: int
    rule: dict  # how the points were computed, for support and audit
    lot_id: uuid.UUID | None
    transaction_id: uuid.UUID | None
    returned_minor: int
    points_clawed_back: int
    recorded_by: str
    created_at: datetime


class ReturnRow(TrackedRow):
    TABLE = PurchaseReturn.__table__

    id: uuid.UUID
    purchase_id: uuid.UUID
    return_key: str
    amount_minor: int
    points_clawed_back: int
    from_purchase_lot: int
    from_other_lots: int
    as_debt: int
    transaction_id: uuid.UUID | None
    created_at: datetime
