"""A member's redemptions as they move: the `myRedemptionUpdates` subscription's service layer.

A trigger (migration 7af4cdfb7d80) notifies `redemption_updates` with '<member id>:<redemption id>'
when a redemption is created or its status, step, refund or voucher state changes, once the write
commits. The feed reads that redemption as it is now and answers it unless it answers nothing new
since the last time (a burst of steps read once may already show the latest). After missed
notifications (RESYNC) it re-reads the member's redemptions written since the feed began.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

from services.redemptions import access
from services.redemptions.redeeming import store
from services.redemptions.redeeming.answers import RedemptionAnswer
from services.redemptions.redeeming.service import redemptions_by_ids
from shared.auth import Principal
from shared.database import Database
from shared.notifications import RESYNC, notification_hub
from shared.timeutil import utcnow

UPDATES_CHANNEL = "redemption_updates"
RESYNC_LIMIT = 100  # redemptions re-read after missed notifications, the latest written


def _state(answer: RedemptionAnswer) -> tuple[str | None, ...]:
    return answer.status, answer.step, answer.refund_state, answer.code_state


async def redemption_feed(db: Database, principal: Principal) -> AsyncIterator[RedemptionAnswer]:
    """Each of the signed-in member's redemptions when it is created and each time its state changes."""
    member_id = access.require_own_feed(principal)
    began = utcnow()
    shown: dict[uuid.UUID, tuple[str | None, ...]] = {}
    async with await notification_hub(db.url).subscribe(UPDATES_CHANNEL, str(member_id)) as changes:
        async for detail in changes:
            if detail is RESYNC:
                async with db.session() as session:
                    ids = await store.changed_since(session, member_id, began, RESYNC_LIMIT)
            else:
                ids = [uuid.UUID(detail)]
            for answer in await redemptions_by_ids(db, principal, ids):
                # by_ids answers None for what this member may not see: never another's
                if answer is None or answer.member_id != member_id or shown.get(answer.id) == _state(answer):
                    continue
                shown[answer.id] = _state(answer)
                yield answer
