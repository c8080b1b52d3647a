"""What a delivery through a partner ended as, and the log of every request it took.

The redemption saga branches on the outcome, so it is a closed set of types rather than a flag:
`Delivered` (capture the points), `Refused` (final: release them), `Unknown` (not final: keep the
hold and resume later with the same idempotency key). Each carries the attempts that led to it, so
the service can store them as the delivery log support reads ("we asked three times; the partner
timed out twice, then said SUCCEEDED").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeAlias

from services.benefits.errors import DeliveryUnknown, PartnerRefused

__all__ = [
    "Attempt",
    "AttemptKind",
    "AttemptOutcome",
    "Delivered",
    "RechargeOutcome",
    "Refused",
    "RevokeOutcome",
    "Revoked",
    "Unknown",
    "require_delivered",
]


class AttemptKind(StrEnum):
    RECHARGE = "RECHARGE"  # POST …/recharges
    STATUS = "STATUS"  # GET …/recharges/{key}
    REVOKE = "REVOKE"  # POST …/recharges/{key}/revoke


class AttemptOutcome(StrEnum):
    """What one request told us."""

    SUCCEEDED = "SUCCEEDED"  # delivered (a recharge, or a status saying so)
    REFUSED = "REFUSED"  # the partner said no, finally
    REVOKED = "REVOKED"
    PENDING = "PENDING"  # status: received, still in progress
    NOT_RECEIVED = "NOT_RECEIVED"  # status: the partner never got the key
    NOT_SENT = "NOT_SENT"  # no connection: nothing reached the partner
    UNANSWERED = "UNANSWERED"  # timeout, dropped connection, 429/5xx: it may or may not have happened
    REJECTED = "REJECTED"  # a 4xx outside the contract (bad signature, bad body): a repeat gets the same
    MALFORMED = "MALFORMED"  # an answer outside the contract: never taken as success


@dataclass(frozen=True, slots=True)
class Attempt:
    """One HTTP request to the partner, as the delivery log keeps it."""

    at: datetime  # UTC, when the request started
    kind: AttemptKind
    http_status: int | None  # None when no answer arrived
    # why this was not a contract answer: "connect_error", "timeout", "transport_error",
    # "invalid_json", "unexpected_body", "unexpected_status", "answer_too_large"; else None
    error: str | None
    latency_ms: float
    outcome: AttemptOutcome
    detail: str | None = None  # the partner's reference or refusal reason, when it gave one

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, for the service to persist."""
        return {
            "at": self.at.isoformat(),
            "kind": self.kind.value,
            "httpStatus": self.http_status,
            "error": self.error,
            "latencyMs": round(self.latency_ms, 1),
            "outcome": self.outcome.value,
            "detail": self.detail,
        }


@dataclass(frozen=True, slots=True)
class Delivered:
    reference: str  # the partner's id for the recharge
    attempts: tuple[Attempt, ...]


@dataclass(frozen=True, slots=True)
class Refused:
    reason: str  # the partner's stable reason code, e.g. ACCOUNT_NOT_FOUND
    message: str
    attempts: tuple[Attempt, ...]


@dataclass(frozen=True, slots=True)
class Unknown:
    why: str  # what stood in the way at the end, for the log and support
    attempts: tuple[Attempt, ...]


@dataclass(frozen=True, slots=True)
class Revoked:
    attempts: tuple[Attempt, ...]


RechargeOutcome: TypeAlias = Delivered | Refused | Unknown
RevokeOutcome: TypeAlias = Revoked | Refused | Unknown


def require_delivered(outcome: RechargeOutcome, *, idempotency_key: str | None = None) -> Delivered:
    """The delivery, or the typed error a caller reports: `PartnerRefused` or `DeliveryUnknown`."""
    extra = {"idempotencyKey": idempotency_key} if idempotency_key else {}
    match outcome:
        case Delivered():
            return outcome
        case Refused(reason=reason, message=message):
            raise PartnerRefused(f"the partner refused the delivery: {message or reason}", reason=reason, **extra)
        case Unknown(why=why):
            raise DeliveryUnknown(f"whether the partner delivered is not known yet ({why})", **extra)
    raise TypeError(f"not a recharge outcome: {outcome!r}")
