"""Pure decisions about webhooks: who an event concerns, what is sent, when to try again, what is
logged, and what a partner's signing secret looks like."""

from __future__ import annotations

import base64
import secrets as random
import uuid
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

from shared.events import Event, RetryPolicy

SECRET_BYTES = 32
SECRET_SCHEME = "whsec_"
MAX_LOG_ENTRIES = 50
MAX_ERROR = 300
MAX_PARTNERS_PER_EVENT = 100


class SecretPurpose(StrEnum):
    """What a partner's signing secret signs: the webhooks we send it, or our fulfilment calls to it
    (recharges). Two secrets, rotated apart, so a secret leaked from a partner's webhook receiver
    cannot sign a recharge request (which moves value) and the other way round."""

    WEBHOOK = "WEBHOOK"
    FULFILMENT = "FULFILMENT"


class DeliveryStatus(StrEnum):
    PENDING = "PENDING"
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"  # out of attempts, or nowhere to send it: redelivered on demand


def partner_ids(payload: Mapping[str, Any]) -> list[uuid.UUID]:
    """The partners an event concerns: its `partnerId`, or each of its `partnerIds` (ids that are
    not UUIDs are ignored: no retry would make them valid)."""
    raw: list[Any] = []
    if "partnerId" in payload:
        raw.append(payload["partnerId"])
    listed = payload.get("partnerIds")
    if isinstance(listed, list):
        raw.extend(listed[:MAX_PARTNERS_PER_EVENT])
    found: list[uuid.UUID] = []
    for value in raw:
        try:
            partner_id = uuid.UUID(str(value))
        except ValueError:
            continue
        if partner_id not in found:
            found.append(partner_id)
    return found


# Fields of our events that are about a member: partners receive no member data, whatever the event.
MEMBER_FIELDS = frozenset({"memberId"})


def envelope(event: Event) -> dict[str, Any]:
    """What the partner receives: the same `id` on every attempt, so it can drop duplicates; the
    event's data without any member field (a write-off event tells the redemptions service whose code
    it was, and the partner nothing of the member)."""
    data = {key: value for key, value in event.payload.items() if key not in MEMBER_FIELDS}
    return {"id": str(event.id), "type": event.type, "occurredAt": event.occurred_at.isoformat(), "data": data}


def retry_delay(attempts: int, *, base_seconds: float, max_seconds: float) -> float:
    """Seconds before the next attempt after `attempts` of them: doubling, capped, with jitter."""
    return RetryPolicy(base_seconds=base_seconds, max_seconds=max_seconds).delay(attempts)


def attempt_entry(
    *, at: datetime, attempt: int, url: str | None, http_status: int | None, error: str | None, latency_ms: int | None
) -> dict[str, Any]:
    return {
        "at": at.isoformat(),
        "attempt": attempt,
        "url": url,
        "httpStatus": http_status,
        "error": error[:MAX_ERROR] if error else None,
        "latencyMs": latency_ms,
    }


def new_secret() -> bytes:
    return random.token_bytes(SECRET_BYTES)


def secret_text(raw: bytes) -> str:
    """The secret as the partner holds it; its UTF-8 bytes are the HMAC key."""
    return SECRET_SCHEME + base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
