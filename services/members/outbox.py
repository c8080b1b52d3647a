"""What members publishes, through its transactional outbox (delivered by the app's dispatcher).

To the services named in `ABG_MEMBERS_EVENT_SUBSCRIBERS` (default: points):
- `members.TierChanged` {memberId, fromTier, toTier, reason, occurredAt, sequence, rollingGrowth,
  policyVersion}; `sequence` counts each member's changes, so a consumer can ignore one older
  than what it has (deliveries may arrive out of order);
- `members.MemberErased` {memberId, occurredAt};
- `members.MemberStatusChanged` {memberId, status, occurredAt} on suspension and reactivation, so
  consumers (points refuses holds for a member who is not ACTIVE) keep a local copy; the latest
  `occurredAt` wins, and ERASED (MemberErased) is final.

Apart from `events.py` (what members consumes), so the service layers that publish and the inbox
handlers that call those service layers never import each other.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from shared.events import EventSubscriptions, publish

from services.members.access import SERVICE_NAME
from services.members.config import get_members_settings
from services.members.models import OUTBOX

TIER_CHANGED = "members.TierChanged"
MEMBER_ERASED = "members.MemberErased"
MEMBER_STATUS_CHANGED = "members.MemberStatusChanged"


def subscriptions() -> EventSubscriptions:
    """Read at publish time, so a deployment (or a test) can change subscribers without a rebuild."""
    subscribers = get_members_settings().subscribers
    return EventSubscriptions(
        {TIER_CHANGED: subscribers, MEMBER_ERASED: subscribers, MEMBER_STATUS_CHANGED: subscribers}
    )


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
        session, OUTBOX, type=TIER_CHANGED, payload=payload, subscribers=subscriptions()[TIER_CHANGED],
        producer=SERVICE_NAME,
    )


async def publish_member_erased(session: AsyncSession, *, member_id: uuid.UUID, occurred_at: datetime) -> uuid.UUID:
    payload = {"memberId": str(member_id), "occurredAt": occurred_at.isoformat()}
    return await publish(
        session, OUTBOX, type=MEMBER_ERASED, payload=payload, subscribers=subscriptions()[MEMBER_ERASED],
        producer=SERVICE_NAME,
    )


async def publish_status_changed(
    session: AsyncSession, *, member_id: uuid.UUID, status: str, occurred_at: datetime
) -> uuid.UUID:
    payload = {"memberId": str(member_id), "status": status, "occurredAt": occurred_at.isoformat()}
    return await publish(
        session, OUTBOX, type=MEMBER_STATUS_CHANGED, payload=payload,
        subscribers=subscriptions()[MEMBER_STATUS_CHANGED], producer=SERVICE_NAME,
    )
