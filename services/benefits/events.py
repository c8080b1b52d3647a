"""Benefits' events: what it publishes, to whom, and the subscriber that lives in this process.

Published (outbox, in the transaction of the change):
- `benefits.PartnerStatusChanged` to the services in settings (default points):
  {partnerId, status, version, roles, occurredAt}. Sent on every change of a partner's status or
  roles; `version` grows with every change of the partner, so a consumer keeps the highest it has
  seen (deliveries retry and overtake one another).
Partner-facing events (a benefit redeemed, a code written off, low stock, budget thresholds,
refunds) go to the subscriber `webhooks` with a `partnerId` (or a `partnerIds` list) in the payload:
the outbox dispatcher hands them to services/benefits/webhooks, which delivers them to the partner's
endpoint as signed webhooks. List each type in `_SUBSCRIPTIONS` below.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from shared.events import EventSubscriptions, publish

from services.benefits.config import get_benefits_settings
from services.benefits.models import OUTBOX

SERVICE = "benefits"
WEBHOOKS = "webhooks"  # the in-process subscriber that turns events into partners' webhooks
CONFIGURED = "<settings>"  # stands for the services named in ABG_BENEFITS_EVENT_SUBSCRIBERS

PARTNER_STATUS_CHANGED = "benefits.PartnerStatusChanged"
WEBHOOK_PING = "benefits.WebhookPing"

_SUBSCRIPTIONS: dict[str, tuple[str, ...]] = {
    PARTNER_STATUS_CHANGED: (CONFIGURED,),
    WEBHOOK_PING: (WEBHOOKS,),
}


def subscriptions() -> EventSubscriptions:
    configured = get_benefits_settings().subscribers
    return EventSubscriptions(
        {
            type_: [name for target in targets for name in (configured if target == CONFIGURED else (target,))]
            for type_, targets in _SUBSCRIPTIONS.items()
        }
    )


async def publish_event(session: AsyncSession, type_: str, payload: dict[str, Any]) -> uuid.UUID:
    """Writes one benefits event into the outbox, in the caller's transaction."""
    return await publish(session, OUTBOX, type=type_, payload=payload, subscribers=subscriptions()[type_], producer=SERVICE)
