"""What points consumes (its inbox at POST /events), and the dispatcher of what it publishes
(see `outbox` for the events themselves).

Consumed:
- `members.TierChanged` {memberId, fromTier, toTier, occurredAt, sequence}: the member's tier as
  points uses it for earning; the change with the highest sequence wins, whatever order they
  arrive in (deliveries retry and overtake one another).
- `members.MemberStatusChanged` {memberId, status, occurredAt}: the member's status as points keeps
  it (the latest wins); holds need ACTIVE.
- `members.MemberErased` {memberId, occurredAt}: the account is closed (status ERASED, final): it
  earns nothing more (MEMBER_CLOSED) and the jobs book what is left to breakage. Points holds no
  personal data; ledgers keep the id.
- `benefits.PartnerStatusChanged` {partnerId, status, version, roles}: the partner registry's word on
  a partner; the highest version wins. A partner the registry calls other than ACTIVE, or not
  EARNING, records no purchases (PARTNER_NOT_ACTIVE).

Handlers read the event and call the service layer as points itself (`access.SYSTEM`).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.routing import Route

from services.points import access
from services.points.ledger import service as ledger
from services.points.partners import service as partners
from services.points.models import INBOX, OUTBOX
from services.points.outbox import SERVICE
from shared.errors import InvalidInput
from shared.timeutil import require_aware
from shared.events import Event, event_route, outbox_dispatcher

TIER_CHANGED = "members.TierChanged"
MEMBER_ERASED = "members.MemberErased"
MEMBER_STATUS_CHANGED = "members.MemberStatusChanged"
PARTNER_STATUS_CHANGED = "benefits.PartnerStatusChanged"


async def on_tier_changed(session: AsyncSession, event: Event) -> None:
    payload = event.payload
    try:
        member_id = uuid.UUID(str(payload["memberId"]))
        tier = payload["toTier"]
        sequence = int(payload["sequence"])
    except (KeyError, ValueError, TypeError):
        raise InvalidInput("TierChanged needs memberId, toTier and sequence") from None
    if not isinstance(tier, str):
        raise InvalidInput("TierChanged.toTier must be a tier name")
    await ledger.learn_tier(session, access.SYSTEM, member_id=member_id, tier=tier, sequence=sequence)


def _member_and_time(event: Event) -> tuple[uuid.UUID, datetime]:
    try:
        member_id = uuid.UUID(str(event.payload["memberId"]))
        raw = event.payload.get("occurredAt")
        occurred_at = require_aware(datetime.fromisoformat(str(raw)), "occurredAt") if raw else event.occurred_at
    except (KeyError, ValueError, TypeError):
        raise InvalidInput(f"{event.type} needs memberId and an ISO 8601 occurredAt") from None
    return member_id, occurred_at


async def on_member_status_changed(session: AsyncSession, event: Event) -> None:
    member_id, occurred_at = _member_and_time(event)
    status = event.payload.get("status")
    if not isinstance(status, str):
        raise InvalidInput("MemberStatusChanged.status must be a status name")
    await ledger.learn_status(session, access.SYSTEM, member_id=member_id, status=status, occurred_at=occurred_at)


async def on_member_erased(session: AsyncSession, event: Event) -> None:
    """The account closes: status ERASED for good (the breakage job empties it)."""
    member_id, occurred_at = _member_and_time(event)
    await ledger.learn_status(session, access.SYSTEM, member_id=member_id, status="ERASED", occurred_at=occurred_at)


async def on_partner_status_changed(session: AsyncSession, event: Event) -> None:
    payload = event.payload
    try:
        partner_id = uuid.UUID(str(payload["partnerId"]))
        status, roles, version = payload["status"], payload["roles"], int(payload["version"])
    except (KeyError, ValueError, TypeError):
        raise InvalidInput("PartnerStatusChanged needs partnerId, status, roles and version") from None
    if not isinstance(status, str) or not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise InvalidInput("PartnerStatusChanged.status is a name and roles a list of names")
    await partners.learn_partner_status(
        session, access.SYSTEM, partner_id=partner_id, status=status, roles=roles, version=version
    )


HANDLERS = {
    TIER_CHANGED: on_tier_changed,
    MEMBER_ERASED: on_member_erased,
    MEMBER_STATUS_CHANGED: on_member_status_changed,
    PARTNER_STATUS_CHANGED: on_partner_status_changed,
}


def events_route() -> Route:
    return event_route(SERVICE, INBOX, HANDLERS)


def dispatcher():  # type: ignore[no-untyped-def]
    return outbox_dispatcher(SERVICE, OUTBOX)
