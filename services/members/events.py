"""What members consumes, at POST /events (what it publishes is in `outbox`).

Consumed (each event once, by its id, in the inbox's transaction), acting as members itself:
- `points.PurchaseRecorded` / `points.PurchaseReturned` {memberId, amountMinor, currency, occurredAt}
  → growth for spend, taken back for refunds;
- `engagement.ReviewPublished` / `engagement.ReferralCompleted` {memberId, occurredAt} → the
  interaction's growth (for a referral, `memberId` is the referrer);
- `redemptions.RedemptionCompleted` {memberId, occurredAt} → activity (no growth).
An event type is accepted only from the service its prefix names.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.routing import Route

from shared.errors import Forbidden, InvalidInput
from shared.events import Event, Handler, event_route
from shared.timeutil import require_aware, utcnow

from services.members.access import SERVICE_NAME, SYSTEM
from services.members.models import INBOX
from services.members.tiers import service as tiers
from services.members.tiers.answers import GrowthInput, GrowthKind

PURCHASE_RECORDED = "points.PurchaseRecorded"
PURCHASE_RETURNED = "points.PurchaseReturned"
REVIEW_PUBLISHED = "engagement.ReviewPublished"
REFERRAL_COMPLETED = "engagement.ReferralCompleted"
REDEMPTION_COMPLETED = "redemptions.RedemptionCompleted"


def _growth_handler(kind: GrowthKind) -> Handler:
    async def handle(session: AsyncSession, event: Event) -> None:
        _check_producer(event)
        payload = event.payload
        with_amount = kind in (GrowthKind.PURCHASE, GrowthKind.RETURN)
        entry = GrowthInput(
            event_id=str(event.id),
            member_id=_member_id(payload),
            kind=kind,
            occurred_at=_occurred_at(payload, event),
            amount_minor=payload.get("amountMinor") if with_amount else None,
            currency=payload.get("currency") if with_amount else None,
        )
        await tiers.growth_from_event(session, SYSTEM, entry, source=event.producer)

    return handle


async def _activity(session: AsyncSession, event: Event) -> None:
    _check_producer(event)
    at = min(_occurred_at(event.payload, event), utcnow())
    await tiers.activity_from_event(session, SYSTEM, _member_id(event.payload), at)


HANDLERS: Mapping[str, Handler] = {
    PURCHASE_RECORDED: _growth_handler(GrowthKind.PURCHASE),
    PURCHASE_RETURNED: _growth_handler(GrowthKind.RETURN),
    REVIEW_PUBLISHED: _growth_handler(GrowthKind.REVIEW),
    REFERRAL_COMPLETED: _growth_handler(GrowthKind.REFERRAL),
    REDEMPTION_COMPLETED: _activity,
}


def route() -> Route:
    """POST /events for other services' deliveries."""
    return event_route(SERVICE_NAME, INBOX, HANDLERS)


def _check_producer(event: Event) -> None:
    owner = event.type.split(".", 1)[0]
    if event.producer != owner:
        raise Forbidden(f"{event.type} events come from {owner}, not from {event.producer}")


def _member_id(payload: dict[str, Any]) -> uuid.UUID:
    try:
        return uuid.UUID(str(payload["memberId"]))
    except (KeyError, ValueError):
        raise InvalidInput("memberId must be a member id (UUID)", field="memberId") from None


def _occurred_at(payload: dict[str, Any], event: Event) -> datetime:
    """The business time (when the purchase happened), else when the event was published."""
    raw = payload.get("occurredAt")
    if raw is None:
        return event.occurred_at
    try:
        return require_aware(datetime.fromisoformat(str(raw)), "occurredAt")
    except ValueError:
        raise InvalidInput("occurredAt must be an ISO 8601 time with an offset", field="occurredAt") from None
