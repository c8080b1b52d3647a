"""The partners concept's GraphQL types other than the `Partner` entity: its enums, contact, API keys,
webhook secrets and deliveries, and the per-request loaders the entity's fields use."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

import strawberry

from shared.federation import Info
from shared.pagination import Page

from services.benefits.credentials import service as credentials
from services.benefits.credentials.answers import ApiKeyView
from services.benefits.partners import service as partners
from services.benefits.partners.rules import PartnerRole as DomainPartnerRole
from services.benefits.partners.rules import PartnerStatus as DomainPartnerStatus
from services.benefits.webhooks import service as webhooks
from services.benefits.webhooks.answers import DeliveryView, SecretInfo
from services.benefits.webhooks.answers import WebhookAttempt as AttemptView
from services.benefits.webhooks.rules import DeliveryStatus


PartnerStatus = strawberry.enum(
    DomainPartnerStatus, name="PartnerStatus", description="PENDING until an operator activates it; SUSPENDED by an operator."
)
PartnerRole = strawberry.enum(
    DomainPartnerRole, name="PartnerRole", description="EARNING: its purchases earn points; REDEMPTION: it offers benefits."
)
WebhookDeliveryStatus = strawberry.enum(
    DeliveryStatus, name="WebhookDeliveryStatus",
    description="PENDING (being tried), DELIVERED (a 2xx answer), FAILED (out of attempts, or nowhere to send it).",
)


def partners_loader(info: Info):  # noqa: ANN201
    db, principal = info.context.db, info.context.principal
    return info.context.loader("benefits.partners", lambda ids: partners.load_partners(db, principal, ids))


def api_keys_loader(info: Info):  # noqa: ANN202
    db, principal = info.context.db, info.context.principal
    return info.context.loader("benefits.apiKeys", lambda ids: credentials.keys_of(db, principal, ids))


def secrets_loader(info: Info):  # noqa: ANN202
    db, principal = info.context.db, info.context.principal
    return info.context.loader("benefits.webhookSecrets", lambda ids: webhooks.secrets_of(db, principal, ids))


def deliveries_loader(info: Info, status: DeliveryStatus | None, first: int | None, after: str | None):  # noqa: ANN202
    db, principal = info.context.db, info.context.principal

    async def load(ids: Sequence[uuid.UUID]) -> list[Page[DeliveryView] | None]:
        return await webhooks.deliveries_of(db, principal, ids, status=status, first=first, after=after)

    return info.context.loader(f"benefits.webhookDeliveries:{status}:{first}:{after}", load)


@strawberry.type(description="Who to talk to at a partner.")
class PartnerContact:
    name: str | None
    email: str | None


@strawberry.type(description="An API key of a partner: its metadata (the secret is shown only when issued).")
class PartnerApiKey:
    id: strawberry.ID
    prefix: str = strawberry.field(description="The public part of the key (abk_<prefix>_…), to tell keys apart.")
    label: str | None
    active: bool = strawberry.field(description="False once revoked.")
    created_at: datetime
    created_by: str
    last_used_at: datetime | None = strawberry.field(description="The last exchange for a token (to the minute).")
    revoked_at: datetime | None
    revoked_by: str | None

    @classmethod
    def of(cls, key: ApiKeyView) -> PartnerApiKey:
        return cls(
            id=strawberry.ID(str(key.id)), prefix=key.prefix, label=key.label, active=key.active, created_at=key.created_at,
            created_by=key.created_by, last_used_at=key.last_used_at, revoked_at=key.revoked_at, revoked_by=key.revoked_by,
        )


@strawberry.type(description="A webhook signing secret that still signs (the secret itself is shown only when made).")
class WebhookSecret:
    id: strawberry.ID
    created_at: datetime
    expires_at: datetime | None = strawberry.field(description="When it stops signing; null for the current secret.")

    @classmethod
    def of(cls, info: SecretInfo) -> WebhookSecret:
        return cls(id=strawberry.ID(str(info.id)), created_at=info.created_at, expires_at=info.expires_at)


@strawberry.type(description="One try to deliver a webhook.")
class WebhookAttempt:
    at: datetime
    attempt: int = strawberry.field(description="Its number since the delivery was (re)queued.")
    url: str | None
    http_status: int | None = strawberry.field(description="The endpoint's answer; null if none came.")
    error: str | None
    latency_ms: int | None

    @classmethod
    def of(cls, a: AttemptView) -> WebhookAttempt:
        return cls(at=a.at, attempt=a.attempt, url=a.url, http_status=a.http_status, error=a.error, latency_ms=a.latency_ms)


@strawberry.type(description="One event sent to a partner's webhook endpoint, and every attempt to send it.")
class WebhookDelivery:
    id: strawberry.ID
    event_id: strawberry.ID = strawberry.field(description="The `id` of the JSON sent: the same on every attempt.")
    event_type: str
    status: WebhookDeliveryStatus  # type: ignore[valid-type]
    attempt_count: int = strawberry.field(description="Attempts since it was (re)queued.")
    attempts: list[WebhookAttempt] = strawberry.field(description="Every attempt, oldest first (the newest 50).")
    body: str = strawberry.field(description="The JSON sent: {id, type, occurredAt, data}.")
    created_at: datetime
    next_attempt_at: datetime | None = strawberry.field(description="While PENDING: when it is tried next.")
    delivered_at: datetime | None

    @classmethod
    def of(cls, d: DeliveryView) -> WebhookDelivery:
        return cls(
            id=strawberry.ID(str(d.id)), event_id=strawberry.ID(str(d.event_id)), event_type=d.event_type, status=d.status,
            attempt_count=d.attempt_count, attempts=[WebhookAttempt.of(a) for a in d.attempts], body=d.body,
            created_at=d.created_at, next_attempt_at=d.next_attempt_at, delivered_at=d.delivered_at,
        )
