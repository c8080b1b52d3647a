"""Points' events: what it publishes and what it consumes.

Published (outbox, in the transaction of the change):
- `points.PurchaseRecorded` to members (growth value follows spend):
  {memberId, amountMinor, currency, occurredAt, partnerId, externalId}
- `points.PurchaseReturned` to members (growth taken back), same shape; `amountMinor` is the
  amount returned and `occurredAt` when the return was recorded
- `points.PointsExpiringSoon` (reminders; no subscriber yet):
  {memberId, points, expiresOn} (one per member and expiry date)
Consumed (inbox at POST /events):
- `members.TierChanged` {memberId, fromTier, toTier, occurredAt, sequence}: the member's tier as
  points uses it for earning; the change with the highest sequence wins, whatever order they
  arrive in (deliveries retry and overtake one another).
- `members.MemberErased`: nothing to do (points holds no personal data; ledgers keep the id).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.routing import Route

from services.points.config import get_points_settings
from services.points.models import INBOX, OUTBOX, accounts_t
from shared.errors import InvalidInput
from shared.events import Event, event_route, outbox_dispatcher
from shared.events.outbox import wake_dispatchers
from shared.ids import new_id

SERVICE = "points"
PURCHASE_RECORDED = "points.PurchaseRecorded"
PURCHASE_RETURNED = "points.PurchaseReturned"
POINTS_EXPIRING = "points.PointsExpiringSoon"
TIER_CHANGED = "members.TierChanged"
MEMBER_ERASED = "members.MemberErased"
MAX_TIER_LENGTH = 20


def subscribers(event_type: str) -> tuple[str, ...]:
    settings = get_points_settings()
    return {
        PURCHASE_RECORDED: settings.purchase_subscribers,
        PURCHASE_RETURNED: settings.purchase_subscribers,
        POINTS_EXPIRING: settings.expiry_subscribers,
    }[event_type]


async def publish_many(connection: AsyncConnection, event_type: str, payloads: Sequence[dict[str, Any]]) -> list[uuid.UUID]:
    """Writes many events of one type into the outbox in two statements (the shared `publish` takes
    two round trips per event, which bulk ingestion cannot afford). Same rows, same meaning; call
    `wake()` after the transaction commits."""
    if not payloads:
        return []
    targets = subscribers(event_type)
    ids = [new_id() for _ in payloads]
    await connection.execute(
        OUTBOX.events.insert(),
        [{"id": i, "type": event_type, "payload": orjson.loads(orjson.dumps(p)), "producer": SERVICE} for i, p in zip(ids, payloads)],
    )
    if targets:
        await connection.execute(OUTBOX.deliveries.insert(), [{"event_id": i, "subscriber": s} for i in ids for s in targets])
    return ids


def wake() -> None:
    """Wakes this process's dispatcher once events written by `publish_many` are committed."""
    wake_dispatchers(OUTBOX.key)


async def on_tier_changed(session: AsyncSession, event: Event) -> None:
    payload = event.payload
    try:
        member_id = uuid.UUID(str(payload["memberId"]))
        tier = payload["toTier"]
        sequence = int(payload["sequence"])
    except (KeyError, ValueError, TypeError):
        raise InvalidInput("TierChanged needs memberId, toTier and sequence") from None
    if not isinstance(tier, str) or not 0 < len(tier) <= MAX_TIER_LENGTH:
        raise InvalidInput("TierChanged.toTier must be a tier name")
    statement = (
        insert(accounts_t)
        .values(member_id=member_id, tier=tier, tier_sequence=sequence)
        .on_conflict_do_update(
            index_elements=["member_id"],
            set_={"tier": tier, "tier_sequence": sequence},
            where=accounts_t.c.tier_sequence < sequence,  # an older change arriving late changes nothing
        )
    )
    await session.exec(statement)  # type: ignore[call-overload]


async def on_member_erased(session: AsyncSession, event: Event) -> None:
    """Acknowledged on purpose: erasure keeps the member id and the ledgers, and points has no
    personal data of the member to destroy."""


HANDLERS = {TIER_CHANGED: on_tier_changed, MEMBER_ERASED: on_member_erased}


def events_route() -> Route:
    return event_route(SERVICE, INBOX, HANDLERS)


def dispatcher():  # type: ignore[no-untyped-def]
    return outbox_dispatcher(SERVICE, OUTBOX)
