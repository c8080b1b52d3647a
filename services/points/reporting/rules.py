"""Reporting's decisions (pure)."""

from __future__ import annotations

import uuid
from datetime import datetime

from services.points.ledger.rows import LotRow
from services.points.reporting.answers import LotAnswer

# Where a lot stands.
PENDING = "PENDING"  # inside the partner's return window
AVAILABLE = "AVAILABLE"
SPENT = "SPENT"  # nothing left in it (reserved, redeemed, clawed back or debited)
EXPIRED = "EXPIRED"

LOT_CURSOR = (datetime, uuid.UUID)
TRANSACTION_CURSOR = (int,)
MAX_EXPIRING_DAYS = 366


def lot_status(lot: LotRow) -> str:
    if lot.expired_at is not None:
        return EXPIRED
    if lot.vested_at is None:
        return PENDING
    return AVAILABLE if lot.remaining else SPENT


def lot_answer(lot: LotRow) -> LotAnswer:
    return LotAnswer(
        id=lot.id,
        issuer_partner_id=lot.issuer_partner_id,
        cost_per_point_minor=lot.cost_per_point_minor,
        currency=lot.currency,
        amount=lot.amount,
        remaining=lot.remaining,
        status=lot_status(lot),
        source=lot.source,
        earned_at=lot.earned_at,
        vests_at=lot.vests_at,
        expires_at=lot.expires_at,
        purchase_id=lot.purchase_id,
        origin_lot_id=lot.origin_lot_id,
        member_id=lot.member_id,
        created_at=lot.created_at,
    )
