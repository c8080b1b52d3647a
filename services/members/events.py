"""Members' events: what it publishes (through the outbox) and what it consumes (at POST /events).

Published, to the services named in `ABG_MEMBERS_EVENT_SUBSCRIBERS` (default: points):
- `members.TierChanged` {memberId, fromTier, toTier, reason, occurredAt, sequence, rollingGrowth,
  policyVersion}; `sequence` counts each member's changes, so a consumer can ignore one older
  than what it has (deliveries may arrive out of order);
- `members.MemberErased` {memberId, occurredAt}.

Consumed (each event once, by its id, in the inbox's transaction):
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

from shared.errors import Forbidden, InvalidInput
from shared.events import Event, EventSubscriptions, Handler, event_route, publish
from shared.timeutil import require_aware, utcnow
from starlette.routing import Route

from services.members.config import get_members_settings
from services.members.models import INBOX, OUTBOX

SERVICE = "members"
TIER_CHANGED = "members.TierChanged"
MEMBER_ERASED = "members.MemberErased"

PURCHASE_RECORDED = "points.PurchaseRecorded"
PURCHASE_RETURNED = "points.PurchaseReturned"
REVIEW_PUBLISHED = "engagement.ReviewPublished"
REFERRAL_COMPLETED = "engagement.ReferralCompleted"
REDEMPTION_COMPLETED = "redemptions.RedemptionCompleted"


def subscriptions() -> EventSubscriptions:
    """Read at publish time, so a deployment (or a test) can change subscribers without a rebuild."""
    subscribers = get_members_settings().subscribers
    return EventSubscriptions({TIER_CHANGED: subscribers, MEMBER_ERASED: subscribers})


async def publish_tier_changed(
    session: AsyncSession,
    *,
    member_id: uuid.UUID,
    from_tier: str,
    to_tier: str,
    reason: str,
    occurred_at: datetime,
    sequence: int,
    rolling_growth: int,
    policy_version: int,
) -> uuid.UUID:
    payload = {
        "memberId": str(member_id),
        "fromTier": from_tier,
        "toTier": to_tier,
        "reason": reason,
        "occurredAt": occurred_at.isoformat(),
        "sequence": sequence,
        "rollingGrowth": rolling_growth,
        "policyVersion": policy_version,
    }
    return await publish(
        session, OUTBOX, type=TIER_CHANGED, payload=payload, subscribers=subscriptions()[TIER_CHANGED], producer=SERVICE
    )


async def publish_member_erased(session: AsyncSession, *, member_id: uuid.UUID, occurred_at: datetime) -> uuid.UUID:
    payload = {"memberId": str(member_id), "occurredAt": occurred_at.isoformat()}
    return await publish(
        session, OUTBOX, type=MEMBER_ERASED, payload=payload, subscribers=subscriptions()[MEMBER_ERASED], producer=SERVICE
    )


# --- consuming ---------------------------------------------------------------------------------


def _growth_handler(kind: str) -> Handler:
    async def handle(session: AsyncSession, event: Event) -> None:
        # Imported here: growth publishes through this module, so it cannot be imported at the top.
        from services.members.growth import GrowthInput, GrowthKind, apply_growth, validated

        _check_producer(event)
        payload = event.payload
        now = utcnow()
        with_amount = kind in (GrowthKind.PURCHASE.value, GrowthKind.RETURN.value)
        entry = validated(
            GrowthInput(
                event_id=str(event.id),
                member_id=_member_id(payload),
                kind=GrowthKind(kind),
                occurred_at=_occurred_at(payload, event),
                amount_minor=payload.get("amountMinor") if with_amount else None,
                currency=payload.get("currency") if with_amount else None,
            ),
            now,
        )
        await apply_growth(session, entry, source=event.producer, now=now)

    return handle


async def _activity(session: AsyncSession, event: Event) -> None:
    from services.members.growth import record_activity

    _check_producer(event)
    await record_activity(session, _member_id(event.payload), min(_occurred_at(event.payload, event), utcnow()))


HANDLERS: Mapping[str, Handler] = {
    PURCHASE_RECORDED: _growth_handler("PURCHASE"),
    PURCHASE_RETURNED: _growth_handler("RETURN"),
    REVIEW_PUBLISHED: _growth_handler("REVIEW"),
    REFERRAL_COMPLETED: _growth_handler("REFERRAL"),
    REDEMPTION_COMPLETED: _activity,
}


def route() -> Route:
    """POST /events for other services' deliveries."""
    return event_route(SERVICE, INBOX, HANDLERS)


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
