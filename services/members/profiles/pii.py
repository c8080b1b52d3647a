"""Personal data: validation, normalisation and masking of what members tell us.

Values are normalised before they are encrypted or hashed: the blind index is deterministic, so
"+86 138-0013-8000" and "13800138000" must become the same string to be found (and to collide).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from shared.errors import InvalidInput

MAX_RAW_PHONE = 32
MAX_EMAIL = 254  # RFC 5321 path limit
MAX_EMAIL_LOCAL = 64
DISPLAY_NAME_MAX = 40
ERASED_TEXT = "[erased]"

_PHONE_SEPARATORS = re.compile(r"[\s\-().]")
_CN_MOBILE = re.compile(r"1[3-9]\d{9}")
_E164 = re.compile(r"\+[1-9]\d{6,14}")
_EMAIL_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_DOMAIN_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)  # February 29 is a birthday too


def normalise_phone(raw: str) -> str:
    """E.164 (`+8613800138000`). Accepts E.164 with separators, the `00` international prefix, and
    a bare mainland China 11-digit mobile number (`13800138000` → `+8613800138000`)."""
    if not isinstance(raw, str) or not raw.strip() or len(raw) > MAX_RAW_PHONE:
        raise _bad_phone(raw)
    compact = _PHONE_SEPARATORS.sub("", raw.strip())
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    if _CN_MOBILE.fullmatch(compact):
        compact = "+86" + compact
    if not _E164.fullmatch(compact):
        raise _bad_phone(raw)
    # Members sign in with a mobile: a +86 number must be a mainland mobile, not a landline.
    if compact.startswith("+86") and not _CN_MOBILE.fullmatch(compact[3:]):
        raise _bad_phone(raw)
    return compact


def _bad_phone(raw: object) -> InvalidInput:
    return InvalidInput(
        "phone must be an E.164 number (+8613800138000) or an 11-digit mainland China mobile number",
        field="phone",
    )


def normalise_email(raw: str) -> str:
    """Trimmed and lower-cased (mailboxes are case-insensitive in practice, and the blind index
    must not tell `A@x.com` from `a@x.com`)."""
    value = raw.strip().lower() if isinstance(raw, str) else ""
    local, at, domain = value.rpartition("@")
    ok = (
        at == "@"
        and 0 < len(value) <= MAX_EMAIL
        and 0 < len(local) <= MAX_EMAIL_LOCAL
        and _EMAIL_LOCAL.fullmatch(local) is not None
        and "." in domain
        and all(_DOMAIN_LABEL.fullmatch(label) for label in domain.split("."))
        and not domain.rsplit(".", 1)[1].isdigit()
    )
    if not ok:
        raise InvalidInput("email is not a valid address", field="email")
    return value


def normalise_display_name(raw: str) -> str:
    """NFC, whitespace collapsed, 1–40 characters, no control characters."""
    if not isinstance(raw, str):
        raise InvalidInput("displayName must be text", field="displayName")
    value = " ".join(unicodedata.normalize("NFC", raw).split())
    if not value:
        raise InvalidInput("displayName must not be empty", field="displayName")
    if len(value) > DISPLAY_NAME_MAX:
        raise InvalidInput(f"displayName is longer than {DISPLAY_NAME_MAX} characters", field="displayName")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Co", "Cs") for ch in value):
        raise InvalidInput("displayName contains control characters", field="displayName")
    if value == ERASED_TEXT:
        raise InvalidInput("displayName is reserved", field="displayName")
    return value


@dataclass(frozen=True, order=True)
class MonthDay:
    """A birthday without a year (the year is not needed and is more identifying)."""

    month: int
    day: int

    @classmethod
    def parse(cls, raw: str) -> "MonthDay":
        """`MM-DD` (also the ISO 8601 `--MM-DD`)."""
        text = raw.strip() if isinstance(raw, str) else ""
        if text.startswith("--"):
            text = text[2:]
        match = re.fullmatch(r"(\d{2})-(\d{2})", text)
        if match is None:
            raise InvalidInput("birthday must be MM-DD, e.g. 02-29", field="birthday")
        return cls.of(int(match[1]), int(match[2]))

    @classmethod
    def of(cls, month: int, day: int) -> "MonthDay":
        if not 1 <= month <= 12 or not 1 <= day <= _DAYS_IN_MONTH[month - 1]:
            raise InvalidInput(f"birthday {month:02d}-{day:02d} is not a day of the year", field="birthday")
        return cls(month, day)

    def __str__(self) -> str:
        return f"{self.month:02d}-{self.day:02d}"


def mask_phone(e164: str) -> str:
    """`+8613800131362` → `138****1362`; other countries keep the first 3 and last 4 characters."""
    if e164.startswith("+86") and len(e164) == 14:
        national = e164[3:]
        return f"{national[:3]}****{national[-4:]}"
    hidden = max(len(e164) - 7, 1)
    return f"{e164[:3]}{'*' * hidden}{e164[-4:]}"


def mask_email(email: str) -> str:
    """`jane.doe@example.com` → `j***@example.com`."""
    local, _, domain = email.rpartition("@")
    return f"{local[:1]}***@{domain}"
