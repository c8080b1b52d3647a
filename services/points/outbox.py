"""What points publishes, written to its outbox in the transaction of the change:

- `points.PurchaseRecorded` to members (growth value follows spend):
  {memberId, amountMinor, currency, occurredAt, partnerId, externalId}
- `points.PurchaseReturned` to members (growth taken back), same shape; `amountMinor` is the
  amount returned and `occurredAt` when the return was recorded
- `points.PointsExpiringSoon` (reminders; no subscriber yet):
  {memberId, points, expiresOn} (one per member and expiry date)

What points consumes is in `events` (it calls the service layer, which publishes through here).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncConnection

from services.points.config import get_points_settings
from services.points.models import OUTBOX
from shared.events.outbox import wake_dispatchers
from shared.ids import new_id

SERVICE = "points"
PURCHASE_RECORDED = "points.PurchaseRecorded"
PURCHASE_RETURNED = "points.PurchaseReturned"
POINTS_EXPIRING = "points.PointsExpiringSoon"


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
