"""What a valid programme is (pure checks)."""

from __future__ import annotations

import re

from services.points.config import PointsSettings
from shared.errors import InvalidInput

_CURRENCY = re.compile(r"^[A-Z]{3}$")
MAX_RATE = 1_000_000
MAX_NAME = 100
MAX_RETURN_WINDOW_DAYS = 365
MAX_EXPIRY_MONTHS = 120
MAX_CAP = 10**12


def check_currency(currency: str, field: str = "currency") -> str:
    if not isinstance(currency, str) or not _CURRENCY.match(currency):
        raise InvalidInput("a currency is an ISO 4217 code of three capital letters", field=field)
    return currency


def check_programme(
    settings: PointsSettings,
    *,
    currency: str,
    name: str | None,
    earn_points: int,
    earn_per_minor: int,
    return_window_days: int,
    expiry_months: int,
    cost_per_point_minor: int,
    max_purchase_minor: int | None = None,
    max_points_per_member_day: int | None = None,
    max_purchase_age_days: int | None = None,
) -> None:
    check_currency(currency)
    if name is not None and len(name) > MAX_NAME:
        raise InvalidInput(f"name is longer than {MAX_NAME} characters", field="name")
    if not 0 <= earn_points <= MAX_RATE or not 1 <= earn_per_minor <= MAX_RATE:
        raise InvalidInput(f"the rate is earnPoints (0..{MAX_RATE}) per earnPerMinor (1..{MAX_RATE}) minor units", field="earnPoints")
    if not 0 <= return_window_days <= MAX_RETURN_WINDOW_DAYS:
        raise InvalidInput("the return window is 0 to 365 days", field="returnWindowDays")
    if expiry_months < settings.min_expiry_months or expiry_months > MAX_EXPIRY_MONTHS:
        raise InvalidInput(
            f"points expire {settings.min_expiry_months} to {MAX_EXPIRY_MONTHS} months after they are earned",
            field="expiryMonths",
            minimum=settings.min_expiry_months,
        )
    if not 0 <= cost_per_point_minor <= MAX_RATE:
        raise InvalidInput("costPerPointMinor must be between 0 and 1000000", field="costPerPointMinor")
    for value, field in (
        (max_purchase_minor, "maxPurchaseMinor"),
        (max_points_per_member_day, "maxPointsPerMemberDay"),
        (max_purchase_age_days, "maxPurchaseAgeDays"),
    ):
        if value is not None and (isinstance(value, bool) or not 0 < value <= MAX_CAP):
            raise InvalidInput(f"{field} is a positive whole number (null: the alliance default)", field=field)
