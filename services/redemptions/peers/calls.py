"""How a call to another service ended, as the saga needs to know it.

- an answer: the call's data;
- `Refused`: the service said no, for good (a typed code such as OUT_OF_STOCK): retrying the same
  call gets the same no;
- `Unknown`: no answer that can be trusted (timeout, dropped connection, 5xx, an internal error):
  the call may or may not have acted, so it is retried with the same key, never guessed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.errors import UpstreamError
from shared.http import call_service

from services.redemptions.config import get_redemptions_settings

# Codes that mean "something went wrong on the way", not "no".
_TRANSIENT_CODES = frozenset({
    "INTERNAL_SERVER_ERROR", "UPSTREAM_ERROR", "DELIVERY_UNKNOWN", "UNKNOWN", "SERVICE_UNAVAILABLE",
    "TIMEOUT", "RATE_LIMITED",
})
_TRANSIENT_REASONS = frozenset({"unreachable", "timeout", "transport", "invalid_response"})


class Refused(Exception):
    """The service refused, for good: `code` is its typed error code."""

    def __init__(self, service: str, code: str, message: str, extensions: Mapping[str, Any] | None = None) -> None:
        super().__init__(f"{service}: {code}: {message}")
        self.service = service
        self.code = code
        self.message = message
        self.extensions = dict(extensions or {})


class Unknown(Exception):
    """The outcome is unknown: retry with the same key."""

    def __init__(self, service: str, reason: str, message: str) -> None:
        super().__init__(f"{service}: {reason}: {message}")
        self.service = service
        self.reason = reason
        self.message = message


def classify(error: UpstreamError) -> Refused | Unknown:
    extensions = error.extensions
    service = str(extensions.get("service", "?"))
    reason = str(extensions.get("reason", "?"))
    if reason in _TRANSIENT_REASONS:
        return Unknown(service, reason, error.message)
    if reason == "status":
        status = int(extensions.get("status", 0))
        if status >= 500 or status in (408, 429):
            return Unknown(service, f"http_{status}", error.message)
        return Refused(service, "UPSTREAM_ERROR", error.message, {"status": status})
    codes = list(extensions.get("upstreamCodes") or ["UNKNOWN"])
    code = codes[0]
    if code in _TRANSIENT_CODES:
        return Unknown(service, code, error.message)
    details = {k: v for k, v in (extensions.get("upstreamExtensions") or {}).items() if k != "code"}
    return Refused(service, code, str(extensions.get("upstreamMessage") or error.message), details)


async def call(service: str, query: str, variables: Mapping[str, Any], *, slow: bool = False) -> dict[str, Any]:
    """One GraphQL call; raises `Refused` or `Unknown` instead of `UpstreamError`."""
    settings = get_redemptions_settings()
    timeout = settings.delivery_timeout_seconds if slow else settings.call_timeout_seconds
    try:
        return await call_service(service, query, variables, caller="redemptions", timeout=timeout)
    except UpstreamError as error:
        raise classify(error) from error
