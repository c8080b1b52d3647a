"""The ledger's pure rules: a new lot's opening state and the first-expiring-first spending order."""

from __future__ import annotations

import uuid
from datetime import timedelta

from services.points.ledger.rows import PURCHASE, Credit
from services.points.ledger.rules import new_lot, take_first_expiring
from shared.timeutil import utcnow


def _credit(amount: int, *, vests_in: timedelta = timedelta(0), expires_in: timedelta = timedelta(days=365)) -> Credit:
    now = utcnow()
    return Credit(None, 0, None, amount, now, now + vests_in, now + expires_in, PURCHASE)


def test_a_new_lot_is_available_at_once_or_pending_until_it_vests() -> None:
    now, member = utcnow(), uuid.uuid4()
    available = new_lot(member, _credit(10), now + timedelta(seconds=1))
    pending = new_lot(member, _credit(10, vests_in=timedelta(days=7)), now)
    assert (available.bucket, available.remaining, available.vested_at is not None) == ("available", 10, True)
    assert (pending.bucket, pending.vested_at) == ("pending", None)
    chosen = uuid.uuid4()
    assert new_lot(member, Credit(None, 0, None, 5, now, now, now, PURCHASE, lot_id=chosen), now).id == chosen


def test_points_are_taken_first_expiring_first_and_never_more_than_there_are() -> None:
    now, member = utcnow(), uuid.uuid4()
    lots = [new_lot(member, _credit(amount), now) for amount in (30, 0, 50, 20)]  # already in expiry order
    assert [(lot.remaining, part) for lot, part in take_first_expiring(lots, 60)] == [(30, 30), (50, 30)]
    assert sum(part for _, part in take_first_expiring(lots, 1000)) == 100
    assert take_first_expiring(lots, 0) == []
