"""Root fields of partners' webhooks: secret rotation, redelivery, and a test event."""

from __future__ import annotations

from datetime import datetime

import strawberry

from shared.federation import Info
from shared.ids import parse_id

from services.benefits.schema.partner_types import WebhookDelivery, WebhookSecret
from services.benefits.webhooks import service


@strawberry.type(description="A new webhook signing secret. `secret` is shown this once: store it now.")
class RotatedWebhookSecret:
    secret: str = strawberry.field(description="whsec_…: its UTF-8 bytes are the HMAC-SHA256 key of the v1 signatures.")
    webhook_secret: WebhookSecret
    previous_expires_at: datetime | None = strawberry.field(
        description="Until then the previous secret signs too (each delivery carries a v1 per active secret)."
    )


@strawberry.type
class WebhookMutations:
    @strawberry.mutation(description="The partner or an operator: a new signing secret; the old one overlaps for a while.")
    async def rotate_webhook_secret(self, info: Info, partner_id: strawberry.ID) -> RotatedWebhookSecret:
        rotated = await service.rotate_webhook_secret(info.context.db, info.context.principal, parse_id(partner_id, "partnerId"))
        return RotatedWebhookSecret(
            secret=rotated.secret, webhook_secret=WebhookSecret.of(rotated.info), previous_expires_at=rotated.previous_expires_at
        )

    @strawberry.mutation(description="The partner or an operator: sends a delivery again now, with a fresh set of attempts.")
    async def redeliver_webhook(self, info: Info, delivery_id: strawberry.ID) -> WebhookDelivery:
        return WebhookDelivery.of(
            await service.redeliver_webhook(info.context.db, info.context.principal, parse_id(delivery_id, "deliveryId"))
        )

    @strawberry.mutation(description="The partner or an operator: sends a benefits.WebhookPing event; answers its event id.")
    async def ping_webhook(self, info: Info, partner_id: strawberry.ID) -> strawberry.ID:
        event_id = await service.ping_webhook(info.context.db, info.context.principal, parse_id(partner_id, "partnerId"))
        return strawberry.ID(str(event_id))
