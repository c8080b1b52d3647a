"""Redemptions' events.

Published (outbox, in the transaction that records the step) to the services in
ABG_REDEMPTIONS_EVENT_SUBSCRIBERS (default benefits, members):
- `redemptions.RedemptionCompleted` {redemptionId, memberId, benefitId, partnerId, kind, points,
  settlementMinor, currency, completedAt, occurredAt}: benefits tells the owner (a webhook without
  the member), members counts it as the member's activity;
- `redemptions.RedemptionRefunded` {… the same, refundedAt, reason}.

Consumed at POST /events (each once, by id, acting as redemptions itself):
- `benefits.CodeWrittenOff` {reservationKey, occurredAt, …}: the member's voucher was used at the
  partner's store → the redemption's code is USED (no refund from then on);
- `benefits.CodeWriteOffUndone`: the partner undid it → ISSUED again.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.routing import Route

from shared.errors import Forbidden
from shared.events import Event, Handler, event_route
from shared.timeutil import utcnow

from services.redemptions.access import SERVICE_NAME
from services.redemptions.models import INBOX
from services.redemptions.saga import store

CODE_WRITTEN_OFF = "benefits.CodeWrittenOff"
CODE_WRITE_OFF_UNDONE = "benefits.CodeWriteOffUndone"
REDEMPTION_COMPLETED = "redemptions.RedemptionCompleted"
REDEMPTION_REFUNDED = "redemptions.RedemptionRefunded"
_KEY_PREFIX = "redemption:"


def _redemption_of(event: Event) -> uuid.UUID | None:
    if event.producer != "benefits":
        raise Forbidden(f"{event.type} events come from benefits, not from {event.producer}")
    key = event.payload.get("reservationKey")
    if not isinstance(key, str) or not key.startswith(_KEY_PREFIX):
        return None  # a code reserved by someone else than a redemption
    try:
        return uuid.UUID(key[len(_KEY_PREFIX):])
    except ValueError:
        return None


def _when(event: Event) -> datetime:
    raw = event.payload.get("occurredAt")
    try:
        return min(datetime.fromisoformat(raw), utcnow()) if isinstance(raw, str) else utcnow()
    except ValueError:
        return utcnow()


async def _written_off(session: AsyncSession, event: Event) -> None:
    redemption_id = _redemption_of(event)
    if redemption_id is None:
        return
    at = _when(event)
    done = await session.exec(sa.update(store.T).where(store.T.c.id == redemption_id, store.T.c.code_state == "ISSUED")  # type: ignore[call-overload]
                              .values(code_state="USED", code_used_at=at, updated_at=utcnow()))
    if done.rowcount:
        await store.add_timeline(session, redemption_id, [("CODE", "USED", {"storeId": event.payload.get("storeId")})], at)


async def _undone(session: AsyncSession, event: Event) -> None:
    redemption_id = _redemption_of(event)
    if redemption_id is None:
        return
    done = await session.exec(sa.update(store.T).where(store.T.c.id == redemption_id, store.T.c.code_state == "USED")  # type: ignore[call-overload]
                              .values(code_state="ISSUED", code_used_at=None, updated_at=utcnow()))
    if done.rowcount:
        await store.add_timeline(session, redemption_id, [("CODE", "USE_UNDONE", {})], _when(event))


HANDLERS: Mapping[str, Handler] = {CODE_WRITTEN_OFF: _written_off, CODE_WRITE_OFF_UNDONE: _undone}


def route() -> Route:
    """POST /events for other services' deliveries."""
    return event_route(SERVICE_NAME, INBOX, HANDLERS)
