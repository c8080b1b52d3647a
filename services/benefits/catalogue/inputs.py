"""Checking a benefit's input before any transaction: bounds on every field, normalised slugs, and
the rules between fields (a VOUCHER is delivered as a CODE and has a face value and one validity…).

`check_benefit` takes the whole benefit as the columns it would have (a new one, or a stored one with
the changes laid over it), so creation and partial updates obey exactly the same rules. Errors are
`InvalidInput` naming the GraphQL field (`field`), e.g. `settlementPrice.amountMinor`.
"""

from __future__ import annotations

import enum
import re
import uuid
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from shared.errors import InvalidInput
from shared.timeutil import require_aware

KINDS = ("VOUCHER", "VIDEO_MEMBERSHIP")
DELIVERIES = ("CODE", "RECHARGE")

MAX_TITLE = 200
MAX_TEXT = 5000  # description, terms
MAX_URL = 500
MAX_CATEGORIES = 10
MAX_TAGS = 20
MAX_POINTS = 1_000_000_000
MAX_MONEY_MINOR = 10**12
MAX_DAYS = 3660
MAX_LIMIT = 1_000_000
MAX_STOCK = 1_000_000_000
MAX_REFUND_WINDOW_DAYS = 365
# The same slugs as members' categories of interest, so the two can be matched.
SLUG = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
PLATFORM = re.compile(r"[a-z0-9][a-z0-9_.-]{0,49}")
CURRENCY = re.compile(r"[A-Z]{3}")

# Columns a client may never change once the benefit exists.
IMMUTABLE = ("partner_id", "kind", "delivery")
# GraphQL names of columns, for `field` in errors.
FIELD_NAMES = {
    "face_currency": "faceValue.currency",
    "image_url": "imageUrl",
    "points_price": "pointsPrice",
    "settlement_minor": "settlementPrice.amountMinor",
    "currency": "settlementPrice.currency",
    "face_value_minor": "faceValue.amountMinor",
    "validity_days": "validityDays",
    "valid_until": "validUntil",
    "duration_days": "durationDays",
    "min_tier": "minTier",
    "available_from": "availableFrom",
    "available_until": "availableUntil",
    "limit_per_day": "limits.perDay",
    "limit_per_month": "limits.perMonth",
    "limit_lifetime": "limits.lifetime",
    "stock_total": "stockTotal",
    "birthday_perk": "birthdayPerk",
    "refund_window_days": "refundWindowDays",
}


def field_name(column: str) -> str:
    return FIELD_NAMES.get(column, column)


def _bad(column: str, message: str) -> InvalidInput:
    return InvalidInput(message, field=field_name(column))


def _text(column: str, value: Any, *, max_length: int, required: bool, multiline: bool) -> str | None:
    if value is None:
        if required:
            raise _bad(column, f"{field_name(column)} is required")
        return None
    if not isinstance(value, str):
        raise _bad(column, f"{field_name(column)} must be text")
    if len(value) > max_length:
        raise _bad(column, f"{field_name(column)} is longer than {max_length} characters")
    text = value.strip()
    if required and not text:
        raise _bad(column, f"{field_name(column)} must not be empty")
    allowed = {"\n", "\t"} if multiline else set()
    if any(ch not in allowed and unicodedata.category(ch) in ("Cc", "Cf", "Co", "Cs") for ch in text):
        raise _bad(column, f"{field_name(column)} contains control characters")
    return text


def _int(column: str, value: Any, *, low: int, high: int, required: bool = False) -> int | None:
    if value is None:
        if required:
            raise _bad(column, f"{field_name(column)} is required")
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _bad(column, f"{field_name(column)} must be a whole number from {low} to {high}")
    return value


def _time(column: str, value: Any) -> datetime | None:
    if value is None:
        return None
    try:
        return require_aware(value, field_name(column))
    except InvalidInput:
        raise _bad(column, f"{field_name(column)} must be a time with a UTC offset") from None


def slugs(column: str, values: Any, limit: int) -> list[str]:
    """Lower-case slugs, de-duplicated in their order; at most `limit` of them."""
    if values is None:
        return []
    if isinstance(values, str) or not isinstance(values, Sequence):
        raise _bad(column, f"{column} is a list of slugs")
    if len(values) > limit:
        raise _bad(column, f"at most {limit} {column}")
    cleaned: list[str] = []
    for value in values:
        slug = value.strip().lower() if isinstance(value, str) and len(value) <= 100 else ""
        if not SLUG.fullmatch(slug):
            raise _bad(column, f"each of {column} is 1–32 characters of a–z, 0–9, _ and - (e.g. 'video')")
        if slug not in cleaned:
            cleaned.append(slug)
    return cleaned


def url(column: str, value: Any) -> str | None:
    text = _text(column, value, max_length=MAX_URL, required=False, multiline=False)
    if not text:
        return None
    try:
        parts = urlsplit(text)
    except ValueError:
        raise _bad(column, f"{field_name(column)} is not a URL") from None
    if parts.scheme not in ("https", "http") or not parts.hostname or any(ch.isspace() for ch in text):
        raise _bad(column, f"{field_name(column)} must be an http(s) URL")
    return text


def check_benefit(row: Mapping[str, Any], tier_order: Sequence[str], now: datetime) -> dict[str, Any]:
    """The benefit's columns, normalised and checked; `row` holds the same columns (money as
    `settlement_minor` + `currency`, `face_value_minor`), plus `face_currency` when a face value was
    given with its currency. Raises `InvalidInput` on the first problem."""
    out = dict(row)
    face_currency = out.pop("face_currency", None)
    kind, delivery = row.get("kind"), row.get("delivery")
    if kind not in KINDS:
        raise _bad("kind", "kind must be VOUCHER or VIDEO_MEMBERSHIP")
    if kind == "VOUCHER":
        delivery = delivery or "CODE"
        if delivery != "CODE":
            raise _bad("delivery", "a VOUCHER is always delivered as a CODE")
    elif delivery not in DELIVERIES:
        raise _bad("delivery", "a VIDEO_MEMBERSHIP is delivered by RECHARGE or as a CODE")
    out["delivery"] = delivery

    out["title"] = _text("title", row.get("title"), max_length=MAX_TITLE, required=True, multiline=False)
    out["description"] = _text("description", row.get("description") or "", max_length=MAX_TEXT, required=False, multiline=True) or ""
    out["image_url"] = url("image_url", row.get("image_url"))
    out["categories"] = slugs("categories", row.get("categories"), MAX_CATEGORIES)
    out["tags"] = slugs("tags", row.get("tags"), MAX_TAGS)

    birthday = row.get("birthday_perk", False)
    if not isinstance(birthday, bool):
        raise _bad("birthday_perk", "birthdayPerk is true or false")
    # Only a birthday perk may be free: a 0 elsewhere is far more likely a mistake than a gift.
    _int("points_price", row.get("points_price"), low=0 if birthday else 1, high=MAX_POINTS, required=True)
    _int("settlement_minor", row.get("settlement_minor"), low=0, high=MAX_MONEY_MINOR, required=True)
    if not isinstance(row.get("currency"), str) or not CURRENCY.fullmatch(row["currency"]):
        raise _bad("currency", "currency must be an ISO 4217 code such as CNY")

    if face_currency is not None and face_currency != row["currency"]:
        # One currency per benefit: the partner's, which it is paid in and its vouchers are worth.
        raise InvalidInput("faceValue must be in the settlement currency", field="faceValue.currency")
    _voucher_fields(out, kind, now)
    _video_fields(out, kind)

    min_tier = row.get("min_tier")
    if min_tier is not None:
        code = min_tier.strip().upper() if isinstance(min_tier, str) else ""
        if code not in tier_order:
            raise _bad("min_tier", f"minTier must be one of {', '.join(tier_order)}")
        out["min_tier"] = code
    start, end = _time("available_from", row.get("available_from")), _time("available_until", row.get("available_until"))
    if start is not None and end is not None and end <= start:
        raise _bad("available_until", "availableUntil must be after availableFrom")
    out["available_from"], out["available_until"] = start, end

    for column in ("limit_per_day", "limit_per_month", "limit_lifetime"):
        _int(column, row.get(column), low=1, high=MAX_LIMIT)
    # 0 is a window that has closed at once: members may not ask, as with none, but the partner said so.
    _int("refund_window_days", row.get("refund_window_days"), low=0, high=MAX_REFUND_WINDOW_DAYS)
    stock = _int("stock_total", row.get("stock_total"), low=0, high=MAX_STOCK)
    if stock is not None and delivery == "CODE":
        raise _bad("stock_total", "a CODE benefit's stock is its code pool: leave stockTotal out")
    return out


def _voucher_fields(out: dict[str, Any], kind: str, now: datetime) -> None:
    face, days, until = out.get("face_value_minor"), out.get("validity_days"), out.get("valid_until")
    if kind != "VOUCHER":
        for column in ("face_value_minor", "terms", "validity_days", "valid_until"):
            if out.get(column) is not None:
                raise _bad(column, f"{field_name(column)} is for vouchers only")
        return
    _int("face_value_minor", face, low=1, high=MAX_MONEY_MINOR, required=True)
    out["terms"] = _text("terms", out.get("terms"), max_length=MAX_TEXT, required=False, multiline=True) or None
    if (days is None) == (until is None):
        raise _bad("validity_days", "a voucher is valid either validityDays after issue or until validUntil (one of them)")
    _int("validity_days", days, low=1, high=MAX_DAYS)
    until = _time("valid_until", until)
    if until is not None and until <= now:
        raise _bad("valid_until", "validUntil must be in the future")
    out["valid_until"] = until


def _video_fields(out: dict[str, Any], kind: str) -> None:
    if kind != "VIDEO_MEMBERSHIP":
        for column in ("platform", "duration_days"):
            if out.get(column) is not None:
                raise _bad(column, f"{field_name(column)} is for video memberships only")
        return
    platform = out.get("platform")
    slug = platform.strip().lower() if isinstance(platform, str) and len(platform) <= 100 else ""
    if not PLATFORM.fullmatch(slug):
        raise _bad("platform", "platform is 1–50 characters of a–z, 0–9, '.', _ and - (e.g. 'streambox')")
    out["platform"] = slug
    _int("duration_days", out.get("duration_days"), low=1, high=MAX_DAYS, required=True)


def check_changes(changes: Mapping[str, Any]) -> None:
    """What an update may not touch at all (checked before the stored benefit is read)."""
    for column in IMMUTABLE:
        if column in changes:
            raise _bad(column, f"{field_name(column)} cannot change once the benefit exists")


# --- the catalogue's query ---------------------------------------------------------------------------


class Sort(str, enum.Enum):
    POINTS_ASC = "POINTS_ASC"
    POINTS_DESC = "POINTS_DESC"
    NEWEST = "NEWEST"
    TITLE = "TITLE"


@dataclass(frozen=True, slots=True)
class CatalogueFilter:
    partner_id: uuid.UUID | None = None
    kind: str | None = None
    category: str | None = None
    tag: str | None = None
    redeemable_now: bool | None = None
    points_min: int | None = None
    points_max: int | None = None
    status: str | None = None
