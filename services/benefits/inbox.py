"""What benefits consumes, at POST /events (what it publishes is in `events`).

Consumed (each event once, by its id, in the inbox's transaction), acting as benefits itself:
- `redemptions.RedemptionCompleted` {redemptionId, memberId, benefitId, partnerId, kind, points,
  settlementMinor, currency, completedAt, occurredAt} → `benefits.BenefitRedeemed` to the benefit's
  owner's webhook;
- `redemptions.RedemptionRefunded` {…, refundedAt, occurredAt, reason} → `benefits.RedemptionRefunded`.
Both only from the redemptions service: the route already refuses a caller delivering another
service's events, and each handler refuses these types published by any producer but redemptions.
A module of its own (not `events`), because the handlers publish through `events`.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.routing import Route

from shared.errors import Forbidden
from shared.events import Event, Handler, event_route

from services.benefits.events import REDEMPTION_COMPLETED_IN, REDEMPTION_REFUNDED_IN, REDEMPTIONS_PRODUCER, SERVICE
from services.benefits.models import INBOX
from services.benefits.webhooks import redemptions


def _from_redemptions(handle: Handler) -> Handler:
    async def checked(session: AsyncSession, event: Event) -> None:
        if event.producer != REDEMPTIONS_PRODUCER:
            raise Forbidden(f"{event.type} events come from {REDEMPTIONS_PRODUCER}, not from {event.producer}")
        await handle(session, event)

    return checked


HANDLERS: Mapping[str, Handler] = {
    REDEMPTION_COMPLETED_IN: _from_redemptions(redemptions.tell_partner_redeemed),
    REDEMPTION_REFUNDED_IN: _from_redemptions(redemptions.tell_partner_refunded),
}


def route() -> Route:
    """POST /events for other services' deliveries."""
    return event_route(SERVICE, INBOX, HANDLERS)
