"""The ledger's pure decisions about lots: a new lot's opening state, and the spending order."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from services.points.ledger.rows import Credit, LotRow
from shared.ids import new_id


def new_lot(member_id: uuid.UUID, credit: Credit, now: datetime) -> LotRow:
    """A new lot of the member holding the credit's points, vested at once if it vests by `now`
    (the caller adds it to its unit and posts the matching transaction)."""
    return LotRow(
        id=credit.lot_id or new_id(),
        member_id=member_id,
        issuer_partner_id=credit.issuer_partner_id,
        cost_per_point_minor=credit.cost_per_point_minor,
        currency=credit.currency,
        amount=credit.amount,
        remaining=credit.amount,
        earned_at=credit.earned_at,
        vests_at=credit.vests_at,
        expires_at=credit.expires_at,
        vested_at=now if credit.vests_at <= now else None,
        expired_at=None,
        source=credit.source,
        purchase_id=credit.purchase_id,
        origin_lot_id=credit.origin_lot_id,
        created_tx_id=None,
        created_at=now,
    )


def take_first_expiring(lots: Sequence[LotRow], points: int) -> list[tuple[LotRow, int]]:
    """How many points to take from each lot (already ordered first-expiring first) to make
    `points`, or fewer if the lots do not cover it."""
    taken: list[tuple[LotRow, int]] = []
    left = points
    for lot in lots:
        if left <= 0:
            break
        part = min(lot.remaining, left)
        if part > 0:
            taken.append((lot, part))
            left -= part
    return taken
