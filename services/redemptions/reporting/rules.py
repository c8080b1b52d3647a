"""Pure decisions of the figures: which periods may be asked for, and the rates."""

from __future__ import annotations

from datetime import datetime, timedelta

from shared.errors import InvalidInput
from shared.timeutil import require_aware

MAX_PERIOD = timedelta(days=366)


def period(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """[start, end): aware, non-empty, at most a year (the figures scan the period's redemptions)."""
    start, end = require_aware(start, "from"), require_aware(end, "to")
    if end <= start:
        raise InvalidInput("`to` must be after `from`", field="to")
    if end - start > MAX_PERIOD:
        raise InvalidInput(f"a period is at most {MAX_PERIOD.days} days", field="to")
    return start, end


def rate(part: int, whole: int) -> float | None:
    """part / whole, rounded to 4 places; None when there is no whole to measure against."""
    return round(part / whole, 4) if whole else None
