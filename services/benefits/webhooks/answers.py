"""What webhook operations answer: deliveries with their attempts, and signing secrets (the secret
itself only once, when it is made)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from services.benefits.models import WebhookDelivery, WebhookSecret
from services.benefits.webhooks.rules import DeliveryStatus


@dataclass(frozen=True, slots=True)
class WebhookAttempt:
    at: datetime
    attempt: int
    url: str | None
    http_status: int | None
    error: str | None
    latency_ms: int | None

    @classmethod
    def of(cls, entry: dict[str, Any]) -> WebhookAttempt:
        return cls(
            at=datetime.fromisoformat(entry["at"]), attempt=entry.get("attempt", 0), url=entry.get("url"),
            http_status=entry.get("httpStatus"), error=entry.get("error"), latency_ms=entry.get("latencyMs"),
        )


@dataclass(frozen=True, slots=True)
class DeliveryView:
    id: uuid.UUID
    partner_id: uuid.UUID
    event_id: uuid.UUID
    event_type: str
    status: DeliveryStatus
    attempt_count: int  # since it was last (re)queued
    attempts: tuple[WebhookAttempt, ...]  # every attempt logged, oldest first (the newest 50)
    body: str  # the JSON sent (the same bytes on every attempt; each attempt is signed afresh)
    created_at: datetime
    next_attempt_at: datetime | None
    delivered_at: datetime | None

    @classmethod
    def of(cls, row: WebhookDelivery) -> DeliveryView:
        pending = row.status == DeliveryStatus.PENDING
        return cls(
            id=row.id, partner_id=row.partner_id, event_id=row.event_id, event_type=row.event_type,
            status=DeliveryStatus(row.status), attempt_count=row.attempts,
            attempts=tuple(WebhookAttempt.of(entry) for entry in row.log or ()), body=orjson.dumps(row.payload).decode(),
            created_at=row.created_at, next_attempt_at=row.next_attempt_at if pending else None, delivered_at=row.delivered_at,
        )


@dataclass(frozen=True, slots=True)
class SecretInfo:
    id: uuid.UUID
    created_at: datetime
    expires_at: datetime | None  # None: the current secret

    @classmethod
    def of(cls, row: WebhookSecret) -> SecretInfo:
        return cls(id=row.id, created_at=row.created_at, expires_at=row.expires_at)


@dataclass(frozen=True, slots=True)
class RotatedSecret:
    secret: str  # whsec_…: shown once, kept only encrypted
    info: SecretInfo
    previous_expires_at: datetime | None  # when the secret it replaces stops signing
