"""Tokens already verified, so a caller's next requests skip the signature check.

A member's app sends the same bearer token with every request, and every process on the way (the
gateway, then each subgraph) verifies it: decoding, a signature check and claim checks on each
hop, about a tenth of a small read's CPU. A verified token's principal is kept until the token
expires; the expiry is checked on every hit, and the key includes the settings object, so other
keys, issuers or audiences verify afresh. Failures are never kept: a bad token costs its caller a
full check each time. Bounded: when full, the oldest entries go first.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from shared.auth.principals import Principal


class VerifiedTokens:
    def __init__(self, max_entries: int = 20_000) -> None:
        self.max_entries = max_entries
        # (id of the settings, token) -> (settings, principal, expires at). The settings object is
        # kept with its entries, so its id cannot be reused by other settings while they live.
        self._entries: OrderedDict[tuple[int, str], tuple[Any, Principal, float]] = OrderedDict()

    def get(self, settings: Any, token: str, now: float) -> Principal | None:
        key = (id(settings), token)
        found = self._entries.get(key)
        if found is None:
            return None
        kept_settings, principal, expires_at = found
        if kept_settings is not settings or now >= expires_at:
            del self._entries[key]
            return None
        return principal

    def put(self, settings: Any, token: str, principal: Principal, expires_at: float) -> None:
        self._entries[(id(settings), token)] = (settings, principal, expires_at)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()
