"""Events between services: a transactional outbox delivered at least once, and an idempotent inbox.

Producer: `publish(session, OUTBOX, type=..., payload=..., subscribers=SUBSCRIPTIONS[type])` in the
transaction of the change, and `outbox_dispatcher(name, OUTBOX)` among the app's background loops.
Consumer: `event_route(name, INBOX, handlers)` among the app's routes.
"""

from shared.events.dispatcher import (
    DispatchResult,
    RetryPolicy,
    dispatch_once,
    events_url,
    outbox_dispatcher,
)
from shared.events.event import Event
from shared.events.maintenance import purge_delivered, requeue_dead
from shared.events.inbox import Handler, Outcome, consume, event_route
from shared.events.outbox import EventSubscriptions, publish
from shared.events.tables import DEAD, DELIVERED, PENDING, OutboxTables, inbox_table, outbox_tables

__all__ = [
    "DEAD",
    "DELIVERED",
    "PENDING",
    "DispatchResult",
    "Event",
    "EventSubscriptions",
    "Handler",
    "Outcome",
    "OutboxTables",
    "RetryPolicy",
    "consume",
    "dispatch_once",
    "event_route",
    "events_url",
    "inbox_table",
    "outbox_dispatcher",
    "outbox_tables",
    "publish",
    "purge_delivered",
    "requeue_dead",
]
