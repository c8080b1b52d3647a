"""PostgreSQL LISTEN/NOTIFY fanned out to in-process subscribers (subscriptions' source of changes).

`notification_hub(url)` is the process's one hub for a database; `close_notification_hubs()` at
shutdown closes their connections."""

from __future__ import annotations

import asyncio

from shared.database.urls import to_async_url
from shared.notifications.hub import DEFAULT_MAX_PENDING, NotificationHub
from shared.notifications.subscription import RESYNC, Subscription

__all__ = ["DEFAULT_MAX_PENDING", "RESYNC", "NotificationHub", "Subscription", "close_notification_hubs", "notification_hub"]

# One per database: a hub's connection and task belong to the event loop that made it, so another
# loop (a test's own) gets a new one.
_hubs: dict[str, tuple[asyncio.AbstractEventLoop, NotificationHub]] = {}


def notification_hub(url: str) -> NotificationHub:
    key, loop = to_async_url(url), asyncio.get_running_loop()
    found = _hubs.get(key)
    if found is None or found[0] is not loop:
        found = _hubs[key] = (loop, NotificationHub(url))
    return found[1]


async def close_notification_hubs() -> None:
    """Closes the hubs of this event loop."""
    loop = asyncio.get_running_loop()
    for key in [k for k, (owner, _) in _hubs.items() if owner is loop]:
        await _hubs.pop(key)[1].close()
