"""Time: always UTC and timezone-aware; calendar-month arithmetic for expiry dates."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime

from shared.errors import InvalidInput


def utcnow() -> datetime:
    return datetime.now(UTC)


def add_months(moment: datetime, months: int) -> datetime:
    """The same day and time `months` later; the 31st becomes the month's last day if shorter."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def require_aware(moment: datetime, field: str) -> datetime:
    """A time with an offset, as UTC; naive times are refused rather than guessed."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidInput(f"{field} must carry a UTC offset", field=field)
    return moment.astimezone(UTC)
