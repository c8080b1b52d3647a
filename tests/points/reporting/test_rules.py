"""Where a lot stands, as members see it."""

from __future__ import annotations

import uuid
from datetime import timedelta

from services.points.ledger.rows import PURCHASE, Credit, LotRow
from services.points.ledger.rules import new_lot
from services.points.reporting.rules import lot_answer, lot_status
from shared.timeutil import utcnow


def test_a_lot_is_pending_available_spent_or_expired() -> None:
    now = utcnow()
    lot = new_lot(uuid.uuid4(), Credit(None, 2, "CNY", 40, now, now, now + timedelta(days=30), PURCHASE), now)
    assert lot_status(lot) == "AVAILABLE"
    def changed(**values: object) -> LotRow:
        return LotRow.from_mapping({**lot.values(), **values})

    assert lot_status(changed(vested_at=None)) == "PENDING"
    assert lot_status(changed(remaining=0)) == "SPENT"
    assert lot_status(changed(expired_at=now, vested_at=None)) == "EXPIRED"  # expiry wins
    answer = lot_answer(lot)
    assert (answer.status, answer.remaining, answer.cost_per_point_minor, answer.currency) == ("AVAILABLE", 40, 2, "CNY")
