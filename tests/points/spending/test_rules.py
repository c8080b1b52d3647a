"""Spending's pure rules: settlement split and reversal, and when a hold may be captured."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from services.points.spending.rules import ACTIVE, CAPTURED, require_active, reversal, split_pro_rata
from shared.errors import Conflict
from shared.timeutil import utcnow


def test_shares_are_whole_units_that_add_up_exactly() -> None:
    assert split_pro_rata(1000, [30, 60]) == [333, 667]
    assert split_pro_rata(10, [1, 1, 1]) == [4, 3, 3]  # ties: the earlier weight gets the unit
    assert split_pro_rata(0, [0, 0]) == [0, 0]
    for total, weights in [(999, [7, 11, 13]), (1, [5, 5]), (12345, [1, 2, 3, 4])]:
        assert sum(split_pro_rata(total, weights)) == total
    with pytest.raises(ValueError):
        split_pro_rata(5, [0, 0])


def test_refunds_reverse_settlement_without_drift() -> None:
    settled, captured = 999, 100
    parts = [reversal(settled, captured, before, before + step) for before, step in ((0, 40), (40, 33), (73, 27))]
    assert parts == [399, 330, 270] and sum(parts) == settled  # all of it comes back, to the unit


def test_only_an_active_hold_within_its_time_limit_may_be_captured() -> None:
    now, hold = utcnow(), uuid.uuid4()
    require_active(hold, ACTIVE, now + timedelta(seconds=1), now)
    with pytest.raises(Conflict) as captured:
        require_active(hold, CAPTURED, now + timedelta(seconds=1), now)
    assert captured.value.extensions["holdStatus"] == CAPTURED
    with pytest.raises(Conflict) as expired:
        require_active(hold, ACTIVE, now, now)
    assert expired.value.extensions["holdStatus"] == "EXPIRED"
