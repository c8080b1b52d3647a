"""GraphQL types of recharge deliveries, and the fields delivery adds to the entities:
`Reservation.deliveryAttempts` and `Partner.fulfilmentSecrets` (mixins, as codes_types does)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from shared.federation import Info
from shared.ids import parse_id

from services.benefits.delivery import service as delivery
from services.benefits.delivery.answers import AttemptAnswer
from services.benefits.delivery.outcomes import AttemptKind, AttemptOutcome
from services.benefits.webhooks import service as webhooks
from services.benefits.webhooks.answers import SecretInfo
from services.benefits.webhooks.rules import SecretPurpose

DeliveryAttemptKind = strawberry.enum(
    AttemptKind, name="DeliveryAttemptKind",
    description="RECHARGE (POST …/recharges), STATUS (GET …/recharges/{key}) or REVOKE (POST …/recharges/{key}/revoke).",
)
DeliveryAttemptOutcome = strawberry.enum(
    AttemptOutcome, name="DeliveryAttemptOutcome",
    description="What one request told us: SUCCEEDED, REFUSED, REVOKED, PENDING, NOT_RECEIVED (the partner never got the key), "
                "NOT_SENT (no connection), UNANSWERED (timeout, 429, 5xx), REJECTED (another 4xx), MALFORMED (outside the "
                "contract).",
)


@strawberry.type(description="One request to a partner's fulfilment endpoint for a reservation (the delivery log).")
class DeliveryAttempt:
    at: datetime = strawberry.field(description="When the request started.")
    kind: DeliveryAttemptKind  # type: ignore[valid-type]
    http_status: int | None = strawberry.field(description="The partner's answer; null if none came.")
    error: str | None = strawberry.field(description="Why it was no contract answer: timeout, connect_error, invalid_json, …")
    latency_ms: int | None
    outcome: DeliveryAttemptOutcome  # type: ignore[valid-type]
    detail: str | None = strawberry.field(description="The partner's reference (delivered) or reason code (refused).")
    idempotency_key: str = strawberry.field(description="The idempotency key the partner saw (the same on every request).")

    @classmethod
    def of(cls, a: AttemptAnswer) -> DeliveryAttempt:
        return cls(at=a.at, kind=AttemptKind(a.kind), http_status=a.http_status, error=a.error, latency_ms=a.latency_ms,
                   outcome=AttemptOutcome(a.outcome), detail=a.detail, idempotency_key=a.idempotency_key)


@strawberry.type(description="A fulfilment signing secret that still signs recharge calls to the partner (the secret itself "
                             "is shown only when made).")
class FulfilmentSecret:
    id: strawberry.ID
    created_at: datetime
    expires_at: datetime | None = strawberry.field(description="When it stops signing; null for the current secret.")

    @classmethod
    def of(cls, info: SecretInfo) -> FulfilmentSecret:
        return cls(id=strawberry.ID(str(info.id)), created_at=info.created_at, expires_at=info.expires_at)


# --- the fields this concept adds to the entities ------------------------------------------------------


def _attempts_loader(info: Info):  # noqa: ANN202
    db, principal = info.context.db, info.context.principal
    return info.context.loader("benefits.deliveryAttempts", lambda ids: delivery.attempts_of(db, principal, ids))


def _secrets_loader(info: Info):  # noqa: ANN202
    db, principal = info.context.db, info.context.principal
    return info.context.loader(
        "benefits.fulfilmentSecrets", lambda ids: webhooks.secrets_of(db, principal, ids, SecretPurpose.FULFILMENT)
    )


@strawberry.type
class ReservationDeliveryFields:
    id: strawberry.ID

    @strawberry.field(description="Every request to the partner for this recharge, oldest first (empty for a code).")
    async def delivery_attempts(self, info: Info) -> list[DeliveryAttempt] | None:
        found = await _attempts_loader(info).load(parse_id(self.id))
        return [DeliveryAttempt.of(a) for a in found] if found is not None else None


@strawberry.type
class PartnerDeliveryFields:
    id: strawberry.ID

    @strawberry.field(description="The secrets that sign recharge calls to it now (two during a rotation's overlap).")
    async def fulfilment_secrets(self, info: Info) -> list[FulfilmentSecret] | None:
        found = await _secrets_loader(info).load(parse_id(self.id))
        return [FulfilmentSecret.of(s) for s in found] if found is not None else None
