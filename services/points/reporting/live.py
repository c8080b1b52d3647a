"""A member's balances as they change: the `myPoints` subscription's service layer.

The ledger's trigger (migration a4f37bf04ef1) notifies `points_ledger` with the member's id when a
transaction that wrote to their ledger commits; the process's notification hub hands it to this
member's feeds. The feed listens before it reads, so no change falls between the first answer and
the next; it re-reads on each notification (and on a RESYNC after missed ones) and answers only
balances that differ from the last it gave.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from services.points import access
from services.points.ledger import store as ledger
from services.points.ledger.answers import Balances
from shared.auth import Principal
from shared.database import Database
from shared.notifications import notification_hub

LEDGER_CHANNEL = "points_ledger"


async def balance_feed(db: Database, principal: Principal) -> AsyncIterator[Balances]:
    """The signed-in member's balances now, then after each committed change to their ledger."""
    member_id = access.require_own_feed(principal)
    async with await notification_hub(db.url).subscribe(LEDGER_CHANNEL, str(member_id)) as changes:
        last: Balances | None = None
        while True:
            current = (await ledger.balances(db, [member_id])).get(member_id, Balances(member_id))
            if current != last:
                yield current
                last = current
            await changes.next()
