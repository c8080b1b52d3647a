"""Root fields of recharge deliveries: deliver and revoke (alliance services), the delivery log, and
the partner's fulfilment signing secret."""

from __future__ import annotations

from datetime import datetime

import strawberry

from shared.federation import Info
from shared.ids import parse_id

from services.benefits.delivery import service as delivery
from services.benefits.schema.codes_types import Reservation
from services.benefits.schema.delivery_types import DeliveryAttempt, FulfilmentSecret
from services.benefits.webhooks import service as webhooks
from services.benefits.webhooks.rules import SecretPurpose


@strawberry.type(description="A new fulfilment signing secret. `secret` is shown this once: give it to the fulfilment API.")
class RotatedFulfilmentSecret:
    secret: str = strawberry.field(description="whsec_…: its UTF-8 bytes are the HMAC-SHA256 key of the v1 signatures.")
    fulfilment_secret: FulfilmentSecret
    previous_expires_at: datetime | None = strawberry.field(
        description="Until then the previous secret signs too (each request carries a v1 per active secret)."
    )


@strawberry.type
class DeliveryQueries:
    @strawberry.field(description="Every request sent to the partner for a reservation's recharge, oldest first: staff, "
                                  "alliance services and the benefit's partner.")
    async def delivery_attempts(self, info: Info, key: str) -> list[DeliveryAttempt]:
        return [DeliveryAttempt.of(a) for a in await delivery.attempts(info.context.db, info.context.principal, key)]


@strawberry.type
class DeliveryMutations:
    @strawberry.mutation(description=(
        "Services: deliver a RESERVED reservation of a video membership by direct recharge to the member's account on the "
        "platform, then issue it with the partner's reference. PARTNER_REFUSED (extensions.reason: the partner's reason) "
        "leaves the reservation RESERVED: release it. DELIVERY_UNKNOWN (extensions.attempts) leaves it RESERVED too: call "
        "again later with the same key and account (the partner delivers at most once per key). After success a call "
        "answers the ISSUED reservation without asking the partner again; the same key with another account is "
        "IDEMPOTENCY_KEY_REUSED. CONFLICT for a reservation issued otherwise, released or voided; BAD_USER_INPUT for a "
        "benefit delivered as a code."
    ))
    async def deliver_recharge(self, info: Info, key: str, account: str) -> Reservation:
        return Reservation.of(await delivery.deliver_recharge(info.context.db, info.context.principal, key=key, account=account))

    @strawberry.mutation(description=(
        "Services (refunds, or a delivery given up): take a reservation's recharge back, or bar its key if it never "
        "arrived. REVOKED: an ISSUED reservation is voided; a RESERVED one stays so (release it). PARTNER_REFUSED (say, "
        "ALREADY_CONSUMED or REVOKE_NOT_SUPPORTED) and DELIVERY_UNKNOWN change nothing."
    ))
    async def revoke_recharge(self, info: Info, key: str) -> Reservation:
        return Reservation.of(await delivery.revoke_recharge(info.context.db, info.context.principal, key=key))

    @strawberry.mutation(description="The partner or an operator: a new secret for signing recharge calls to the partner; the "
                                     "old one overlaps for a while.")
    async def rotate_fulfilment_secret(self, info: Info, partner_id: strawberry.ID) -> RotatedFulfilmentSecret:
        rotated = await webhooks.rotate_secret(info.context.db, info.context.principal, parse_id(partner_id, "partnerId"),
                                               SecretPurpose.FULFILMENT)
        return RotatedFulfilmentSecret(secret=rotated.secret, fulfilment_secret=FulfilmentSecret.of(rotated.info),
                                       previous_expires_at=rotated.previous_expires_at)
