"""Pure decisions of delivering recharges: the idempotency key a reservation sends, what a member's
platform account may look like, and what a reservation's benefit must be to be recharged."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from shared.errors import InvalidInput

__all__ = ["MAX_ACCOUNT", "check_account", "is_recharge", "recharge_key"]

MAX_ACCOUNT = 100
# What the contract lets a key hold, with room for our prefix within its 128 characters.
_PLAIN_KEY = re.compile(r"[A-Za-z0-9._~:-]{1,120}")


def check_account(account: object) -> str:
    """The member's account on the platform, as the member gave it: 1 to 100 printable characters,
    not only spaces (the partner decides whether it exists)."""
    if not isinstance(account, str) or not 0 < len(account) <= MAX_ACCOUNT or not account.isprintable() or not account.strip():
        raise InvalidInput(f"account must be 1 to {MAX_ACCOUNT} printable characters", field="account")
    return account


def recharge_key(reservation_key: str) -> str:
    """The idempotency key the partner sees for a reservation: the same on every call for that
    reservation (the reservation key is unique), so the partner delivers at most once however often
    we ask. A key made of the contract's characters is sent readable, so support and the partner
    can quote it; any other is sent as its SHA-256. The prefixes keep the two forms apart."""
    if _PLAIN_KEY.fullmatch(reservation_key):
        return f"abg.r.{reservation_key}"
    return f"abg.h.{hashlib.sha256(reservation_key.encode()).hexdigest()}"


def is_recharge(row: Any) -> bool:
    """A video membership delivered by direct recharge (others are delivered as codes)."""
    return row.kind == "VIDEO_MEMBERSHIP" and row.delivery == "RECHARGE"
