"""Pure decisions about partners: what a valid profile is, and when a partner may be redeemed at.

Every check raises `InvalidInput` naming the field (GraphQL's input names), before any transaction.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

from shared.errors import InvalidInput


class PartnerStatus(StrEnum):
    PENDING = "PENDING"
    ACTIVE = "ACTIVE"
    SUSPENDED = "SUSPENDED"


class PartnerRole(StrEnum):
    EARNING = "EARNING"
    REDEMPTION = "REDEMPTION"


MAX_NAME = 100
MAX_EMAIL = 254
MAX_URL = 500
MAX_REASON = 500
MAX_CATEGORIES = 20
# The same slugs members choose as their interests, so the two can be matched.
CATEGORY = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
CURRENCY = re.compile(r"[A-Z]{3}")
# Deliberately loose (addresses are checked by mailing them): one @, a dot in the domain, no spaces.
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class Unchanged:
    """Marks a profile field a caller did not send (as opposed to null, which clears it)."""

    _instance: Unchanged | None = None

    def __new__(cls) -> Unchanged:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNCHANGED"

    def __bool__(self) -> bool:
        return False


UNCHANGED = Unchanged()


def _has_controls(value: str) -> bool:
    return any(unicodedata.category(ch) in ("Cc", "Cf", "Co", "Cs") for ch in value)


def clean_text(value: object, field: str, *, max_length: int) -> str:
    """A one-line human text: NFC, runs of whitespace collapsed, 1..max_length characters."""
    if not isinstance(value, str):
        raise InvalidInput(f"{field} must be text", field=field)
    if len(value) > 4 * max_length:  # refuse huge input before normalising it
        raise InvalidInput(f"{field} is longer than {max_length} characters", field=field)
    text = " ".join(unicodedata.normalize("NFC", value).split())
    if not text:
        raise InvalidInput(f"{field} must not be empty", field=field)
    if len(text) > max_length:
        raise InvalidInput(f"{field} is longer than {max_length} characters", field=field)
    if _has_controls(text):
        raise InvalidInput(f"{field} contains control characters", field=field)
    return text


def clean_optional_text(value: str | None, field: str, *, max_length: int) -> str | None:
    return None if value is None or (isinstance(value, str) and not value.strip()) else clean_text(value, field, max_length=max_length)


def clean_email(value: str | None, field: str = "contact.email") -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str) or len(value.strip()) > MAX_EMAIL or not EMAIL.fullmatch(value.strip()):
        raise InvalidInput(f"{field} is not an email address", field=field)
    return value.strip()


def clean_currency(value: object, field: str = "currency") -> str:
    if not isinstance(value, str) or not CURRENCY.fullmatch(value):
        raise InvalidInput("a currency is an ISO 4217 code of three capital letters", field=field)
    return value


def clean_roles(values: Iterable[object] | None, field: str = "roles") -> tuple[PartnerRole, ...]:
    """One or both roles, without repeats, in a stable order."""
    if values is None:
        raise InvalidInput("a partner has at least one role (EARNING, REDEMPTION)", field=field)
    found: set[PartnerRole] = set()
    for value in values:
        try:
            found.add(PartnerRole(value))
        except ValueError:
            raise InvalidInput("roles are EARNING and REDEMPTION", field=field) from None
    if not found:
        raise InvalidInput("a partner has at least one role (EARNING, REDEMPTION)", field=field)
    return tuple(role for role in PartnerRole if role in found)


def clean_categories(values: Sequence[object] | None, field: str = "categories") -> list[str]:
    if values is None:
        return []
    if len(values) > MAX_CATEGORIES:
        raise InvalidInput(f"at most {MAX_CATEGORIES} categories", field=field)
    cleaned: list[str] = []
    for value in values:
        slug = value.strip().lower() if isinstance(value, str) else ""
        if not CATEGORY.fullmatch(slug):
            raise InvalidInput("a category is 1–32 characters of a–z, 0–9, _ and -, e.g. 'video'", field=field)
        if slug not in cleaned:
            cleaned.append(slug)
    return cleaned


def clean_url(value: str | None, field: str, *, production: bool, endpoint: bool) -> str | None:
    """An absolute http(s) URL (https only in production), at most 500 characters, without
    credentials. `endpoint`: one we call (webhooks, fulfilment): no fragment, and in production
    not a loopback, private or link-local address (we must not be made to call our own network)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"{field} must be text", field=field)
    url = value.strip()
    if len(url) > MAX_URL:
        raise InvalidInput(f"{field} is longer than {MAX_URL} characters", field=field)
    if any(ch.isspace() for ch in url) or _has_controls(url):
        raise InvalidInput(f"{field} must not contain spaces or control characters", field=field)
    try:
        parts = urlsplit(url)
        host, _ = parts.hostname, parts.port  # .port raises on a bad port
    except ValueError:
        raise InvalidInput(f"{field} is not a valid URL", field=field) from None
    allowed = ("https",) if production else ("http", "https")
    if parts.scheme.lower() not in allowed:
        raise InvalidInput(f"{field} must be an {' or '.join(allowed)} URL", field=field)
    if not host:
        raise InvalidInput(f"{field} must name a host", field=field)
    if parts.username is not None or parts.password is not None:
        raise InvalidInput(f"{field} must not carry credentials", field=field)
    if endpoint and parts.fragment:
        raise InvalidInput(f"{field} must not have a #fragment", field=field)
    if endpoint and production and _internal_host(host):
        raise InvalidInput(f"{field} must be a public address", field=field)
    return url


def _internal_host(host: str) -> bool:
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False  # a name: resolved when called (DNS rebinding is out of reach of a syntax check)
    return not address.is_global


def clean_reason(value: object) -> str:
    return clean_text(value, "reason", max_length=MAX_REASON)


def clean_partner_id(value: object | None) -> uuid.UUID | None:
    if value is None:
        return None
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        raise InvalidInput("id is not a valid id", field="id") from None


@dataclass(frozen=True, slots=True)
class Redeemability:
    ok: bool
    reason: str | None  # PARTNER_PENDING, PARTNER_SUSPENDED, NOT_A_REDEMPTION_PARTNER


def redeemability(status: str, roles: Sequence[str]) -> Redeemability:
    """Members may redeem a partner's benefits only while it is ACTIVE and has the REDEMPTION role."""
    if status != PartnerStatus.ACTIVE:
        return Redeemability(False, f"PARTNER_{status}")
    if PartnerRole.REDEMPTION not in roles:
        return Redeemability(False, "NOT_A_REDEMPTION_PARTNER")
    return Redeemability(True, None)
