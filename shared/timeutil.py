"""Time: always UTC and timezone-aware, and calendar-month arithmetic (no third-party date library)."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime

from shared.errors import InvalidInput

__all__ = ["add_months", "require_aware", "utcnow"]


def utcnow() -> datetime:
    return datetime.now(UTC)


def add_months(moment: datetime, months: int) -> datetime:
    """`moment` moved by whole calendar months; a day past the month's end clamps to its last day
    (31 March − 1 month = 28/29 February), as PostgreSQL's interval arithmetic does."""
    index = moment.year * 12 + (moment.month - 1) + months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def require_aware(value: datetime, field: str) -> datetime:
    """A time with an offset, as UTC; a time without one is ambiguous, so it is refused, not guessed."""
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(f"{field} must carry a UTC offset", field=field)
    return value.astimezone(UTC)
