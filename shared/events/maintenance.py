"""Keeping the outbox in shape: dead deliveries given another chance, delivered events purged."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Interval, bindparam, func, or_, select, update

from shared.database import Database
from shared.events.tables import DEAD, DELIVERED, PENDING, OutboxTables


async def requeue_dead(db: Database, tables: OutboxTables, *, subscriber: str | None = None) -> int:
    """Gives dead deliveries (of one subscriber, or all) a fresh set of attempts; returns how many.
    For operators, once the cause (a bug, a long outage) is fixed."""
    d = tables.deliveries
    statement = (
        update(d)
        .where(d.c.status == DEAD, *([d.c.subscriber == subscriber] if subscriber else []))
        .values(status=PENDING, attempts=0, next_attempt_at=func.now(), leased_until=None)
    )
    async with db.engine.begin() as connection:
        return (await connection.execute(statement)).rowcount


async def purge_delivered(db: Database, tables: OutboxTables, *, older_than: timedelta, limit: int = 5000) -> int:
    """Deletes events that every subscriber received more than `older_than` ago (their delivery rows
    go with them); events with a pending or dead delivery stay, whatever their age. At most `limit`
    per call, oldest first, so one call never holds a long transaction; returns how many went."""
    e, d = tables.events, tables.deliveries
    cutoff = func.now() - bindparam("age", type_=Interval)
    unfinished = select(d.c.event_id).where(
        d.c.event_id == e.c.id, or_(d.c.status != DELIVERED, d.c.delivered_at >= cutoff)
    )
    doomed = (
        select(e.c.id).where(e.c.occurred_at < cutoff, ~unfinished.exists()).order_by(e.c.id).limit(limit)
    )
    statement = e.delete().where(e.c.id.in_(doomed.scalar_subquery()))
    async with db.engine.begin() as connection:
        return (await connection.execute(statement, {"age": older_than})).rowcount
