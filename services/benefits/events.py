"""Benefits' events: what it publishes, to whom, written to the outbox in the transaction of the change.

"webhooks" is the subscriber that turns an event concerning a partner into a signed webhook to the
partner's endpoint; "redemptions" is the service running redemption sagas.

Codes (services/benefits/codes, reservations, writeoffs):
- `benefits.CodeWrittenOff` {partnerId, benefitId, codeId, writeOffId, reservationKey, memberId,
  storeId, occurredAt}: a code was written off at the owner's store; the owner gets a webhook and
  the redemption that issued it learns the member's voucher is used.
- `benefits.CodeWriteOffUndone`: the same fields; the owner undid a write-off within its window.
- `benefits.LowStock` {partnerId, benefitId, available, threshold}: a pool fell below its owner's
  threshold; once per crossing.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from services.benefits.models import OUTBOX
from shared.events import EventSubscriptions, publish

CODE_WRITTEN_OFF = "benefits.CodeWrittenOff"
CODE_WRITE_OFF_UNDONE = "benefits.CodeWriteOffUndone"
LOW_STOCK = "benefits.LowStock"

SUBSCRIPTIONS = EventSubscriptions(
    {
        CODE_WRITTEN_OFF: ("webhooks", "redemptions"),
        CODE_WRITE_OFF_UNDONE: ("webhooks", "redemptions"),
        LOW_STOCK: ("webhooks",),
    }
)


async def publish_event(session: AsyncSession, event_type: str, payload: dict[str, Any]) -> uuid.UUID:
    """Writes `event_type` to the outbox for its subscribers, in the session's transaction."""
    return await publish(session, OUTBOX, type=event_type, payload=payload, subscribers=SUBSCRIPTIONS[event_type])
