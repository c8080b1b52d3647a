"""The fulfilment contract (CONTRACT.md) as code: what we send, and what each answer means.

Pure functions and values, no I/O, so the reading of every answer the contract allows (and of
those it does not) is tested without a network. The client decides what to do next from a
`Reading`; it never looks at a status code or a body itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from collections.abc import Callable
from typing import Any, TypeAlias
from urllib.parse import quote, urlsplit

import orjson

from services.benefits.delivery.outcomes import AttemptOutcome
from shared.errors import InvalidInput

__all__ = ["FulfilmentEndpoint", "Reading", "RechargeRequest", "read_recharge", "read_revoke", "read_status"]

_KEY = re.compile(r"[A-Za-z0-9._~:-]{1,128}")
MAX_DURATION_DAYS = 3660
_MAX_TEXT = 128
_MAX_REFERENCE = 200  # what a reservation keeps as its delivery reference
_MAX_REASON = 64
_MAX_MESSAGE = 1000


def _text(value: object, field: str, limit: int = _MAX_TEXT) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= limit or not value.isprintable():
        raise InvalidInput(f"{field} must be 1 to {limit} printable characters", field=field)
    return value


@dataclass(frozen=True, slots=True)
class FulfilmentEndpoint:
    """A partner's fulfilment base URL and its active signing secrets (two during a rotation)."""

    url: str
    secrets: tuple[str | bytes, ...]

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise InvalidInput("a fulfilment endpoint is an http(s) URL without query or fragment", field="url")
        if not self.secrets or not all(self.secrets):
            raise InvalidInput("a fulfilment endpoint needs at least one signing secret", field="secrets")
        object.__setattr__(self, "url", self.url.rstrip("/"))
        object.__setattr__(self, "secrets", tuple(self.secrets))

    def recharges_url(self) -> str:
        return f"{self.url}/recharges"

    def recharge_url(self, key: str) -> str:
        return f"{self.url}/recharges/{quote(key, safe='')}"

    def revoke_url(self, key: str) -> str:
        return f"{self.recharge_url(key)}/revoke"


def check_key(key: str) -> str:
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise InvalidInput("an idempotency key is 1 to 128 of A-Z a-z 0-9 . _ ~ : -", field="idempotencyKey")
    return key


@dataclass(frozen=True, slots=True)
class RechargeRequest:
    idempotency_key: str
    account: str
    duration_days: int
    benefit_id: str
    member_ref: str

    def __post_init__(self) -> None:
        check_key(self.idempotency_key)
        _text(self.account, "account")
        _text(self.benefit_id, "benefitId")
        _text(self.member_ref, "memberRef")
        days = self.duration_days
        if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= MAX_DURATION_DAYS:
            raise InvalidInput(f"durationDays must be 1 to {MAX_DURATION_DAYS}", field="durationDays")

    def body(self) -> bytes:
        """The JSON body, byte for byte what is signed and sent (the same on every retry)."""
        return orjson.dumps({
            "idempotencyKey": self.idempotency_key,
            "account": self.account,
            "durationDays": self.duration_days,
            "benefitId": self.benefit_id,
            "memberRef": self.member_ref,
        })


@dataclass(frozen=True, slots=True)
class Reading:
    """What one answer means under the contract."""

    outcome: AttemptOutcome
    error: str | None = None  # why it is not a contract answer, when it is not
    reference: str | None = None
    reason: str | None = None
    message: str | None = None

    @property
    def detail(self) -> str | None:
        return self.reference or self.reason


_MALFORMED = Reading(AttemptOutcome.MALFORMED, "unexpected_body")
# how to read a body, by its "status" field: a fixed reading, or one that needs the body's fields
_Rule: TypeAlias = Reading | Callable[[dict[str, Any]], Reading]


def _not_an_answer(status: int) -> Reading | None:
    """The statuses that say nothing about the request: retry it (same key)."""
    if status in (408, 425, 429) or status >= 500:
        return Reading(AttemptOutcome.UNANSWERED)
    if 400 <= status < 500:
        return Reading(AttemptOutcome.REJECTED, "unexpected_status")
    return None


def _json(content: bytes) -> dict[str, Any] | None:
    try:
        payload = orjson.loads(content)
    except orjson.JSONDecodeError:
        return None
    return payload if isinstance(payload, dict) else None


def _bounded(value: object, limit: int) -> str | None:
    return value if isinstance(value, str) and 0 < len(value) <= limit else None


def _succeeded(payload: dict[str, Any]) -> Reading:
    reference = _bounded(payload.get("reference"), _MAX_REFERENCE)
    return Reading(AttemptOutcome.SUCCEEDED, reference=reference) if reference else _MALFORMED


def _refused(payload: dict[str, Any]) -> Reading:
    reason = _bounded(payload.get("reason"), _MAX_REASON)
    if not reason:
        return _MALFORMED
    message = payload.get("message")
    message = message[:_MAX_MESSAGE] if isinstance(message, str) else ""
    return Reading(AttemptOutcome.REFUSED, reason=reason, message=message)


def _read(status: int, content: bytes, expected: dict[int, dict[str, _Rule]]) -> Reading:
    """`expected` maps each contract status to {body status: how to read it}."""
    if status not in expected:
        return _not_an_answer(status) or Reading(AttemptOutcome.MALFORMED, "unexpected_status")
    payload = _json(content)
    if payload is None:
        return Reading(AttemptOutcome.MALFORMED, "invalid_json")
    body_status = payload.get("status")
    rule = expected[status].get(body_status) if isinstance(body_status, str) else None
    if rule is None:
        return _MALFORMED
    return rule if isinstance(rule, Reading) else rule(payload)


def read_recharge(status: int, content: bytes) -> Reading:
    """An answer to `POST …/recharges`."""
    return _read(status, content, {200: {"SUCCEEDED": _succeeded}, 422: {"REFUSED": _refused}})


def read_status(status: int, content: bytes) -> Reading:
    """An answer to `GET …/recharges/{key}`."""
    return _read(status, content, {
        200: {"SUCCEEDED": _succeeded, "REFUSED": _refused, "PENDING": Reading(AttemptOutcome.PENDING)},
        404: {"UNKNOWN": Reading(AttemptOutcome.NOT_RECEIVED)},
    })


def read_revoke(status: int, content: bytes) -> Reading:
    """An answer to `POST …/recharges/{key}/revoke`."""
    if status in (405, 501):
        return Reading(AttemptOutcome.REFUSED, reason="REVOKE_NOT_SUPPORTED",
                       message="the partner does not offer revocation")
    return _read(status, content, {200: {"REVOKED": Reading(AttemptOutcome.REVOKED)}, 422: {"REFUSED": _refused}})
