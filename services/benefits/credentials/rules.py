"""Partner API keys: their format, their keyed hash, and the in-memory brake on failed exchanges.

A key reads `abk_<prefix>_<secret>`: the prefix (12 hex digits) is public and finds the key; the
secret (32 random bytes, base64url) is kept only as an HMAC under the service's blind-index key
with a purpose of its own, so a copy of the database does not give anyone a working key.
"""

from __future__ import annotations

import hmac
import re
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from shared.crypto import blind_index

KEY_SCHEME = "abk"
PREFIX_BYTES = 6
SECRET_BYTES = 32
HASH_PURPOSE = "benefits.partner-api-key"
MAX_KEY_LENGTH = 200
MAX_LABEL = 100
_KEY = re.compile(rf"{KEY_SCHEME}_([0-9a-f]{{{2 * PREFIX_BYTES}}})_([A-Za-z0-9_-]{{43}})")


@dataclass(frozen=True, slots=True)
class NewKey:
    prefix: str
    secret: str

    @property
    def text(self) -> str:
        """The whole key, shown to the operator once."""
        return f"{KEY_SCHEME}_{self.prefix}_{self.secret}"


def new_key() -> NewKey:
    return NewKey(prefix=secrets.token_hex(PREFIX_BYTES), secret=secrets.token_urlsafe(SECRET_BYTES))


def parse_key(text: object) -> tuple[str, str] | None:
    """(prefix, secret) of a well-formed key; None for anything else (the format is public, so
    refusing a malformed key early tells nobody anything)."""
    if not isinstance(text, str) or len(text) > MAX_KEY_LENGTH:
        return None
    found = _KEY.fullmatch(text.strip())
    return (found.group(1), found.group(2)) if found else None


def hash_secret(prefix: str, secret: str) -> bytes:
    # The prefix is bound in: a secret moved under another key's prefix does not verify.
    return blind_index(f"{prefix}:{secret}", HASH_PURPOSE)


def same_hash(stored: bytes, candidate: bytes) -> bool:
    return hmac.compare_digest(stored, candidate)


def unknown_key_hash() -> bytes:
    """Compared against when no key has the prefix, so an unknown key costs what a wrong one does."""
    return blind_index("no key has this prefix", HASH_PURPOSE)


class FailureLimiter:
    """Failed exchanges per key prefix in a fixed window; over the limit the prefix is refused until
    the window ends. In this process's memory only (each process of a scaled-out service brakes on
    its own): a brake on guessing and on load, not an account lockout. Bounded: the least recently
    failed prefixes are forgotten first."""

    def __init__(self, limit: int, window_seconds: float, *, max_prefixes: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window_seconds
        self.max_prefixes = max_prefixes
        self.clock = clock
        self._failures: OrderedDict[str, tuple[float, int]] = OrderedDict()  # prefix -> (window start, count)

    def retry_after(self, prefix: str) -> float | None:
        """Seconds until the prefix may try again, or None if it may now."""
        entry = self._failures.get(prefix)
        if entry is None:
            return None
        started, count = entry
        left = started + self.window - self.clock()
        if left <= 0:
            del self._failures[prefix]
            return None
        return left if count >= self.limit else None

    def failed(self, prefix: str) -> None:
        now = self.clock()
        started, count = self._failures.pop(prefix, (now, 0))
        if started + self.window <= now:
            started, count = now, 0
        self._failures[prefix] = (started, count + 1)
        while len(self._failures) > self.max_prefixes:
            self._failures.popitem(last=False)

    def clear(self) -> None:
        self._failures.clear()
