"""Outbox retention: events every subscriber got long ago are deleted; nothing undelivered ever is."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import text, update

from shared.events import DEAD, DELIVERED, publish, purge_delivered
from tests.shared.events.support import PRODUCER, SUBSCRIBER, Env


async def _event(env: Env, subscribers: list[str], *, age_days: float, statuses: dict[str, tuple[str, float]]) -> uuid.UUID:
    """An event `age_days` old whose deliveries have the given (status, days since delivery)."""
    async with env.db.transaction() as session:
        event_id = await publish(
            session, env.outbox, type="PointsEarned", payload={}, subscribers=subscribers, producer=PRODUCER
        )
    e, d = env.outbox.events, env.outbox.deliveries
    async with env.db.engine.begin() as connection:
        await connection.execute(
            update(e).where(e.c.id == event_id).values(occurred_at=text(f"now() - interval '{age_days} days'"))
        )
        for subscriber, (status, delivered_days) in statuses.items():
            delivered_at = text(f"now() - interval '{delivered_days} days'") if status == DELIVERED else None
            await connection.execute(
                update(d)
                .where(d.c.event_id == event_id, d.c.subscriber == subscriber)
                .values(status=status, delivered_at=delivered_at)
            )
    return event_id


async def test_only_fully_delivered_old_events_are_purged(env: Env) -> None:
    old_done = await _event(env, [SUBSCRIBER, "redemptions"], age_days=30,
                            statuses={SUBSCRIBER: (DELIVERED, 29), "redemptions": (DELIVERED, 20)})
    half_done = await _event(env, [SUBSCRIBER, "redemptions"], age_days=30, statuses={SUBSCRIBER: (DELIVERED, 29)})
    dead = await _event(env, [SUBSCRIBER], age_days=30, statuses={SUBSCRIBER: (DEAD, 0)})
    lately_delivered = await _event(env, [SUBSCRIBER], age_days=30, statuses={SUBSCRIBER: (DELIVERED, 1)})
    no_subscribers = await _event(env, [], age_days=30, statuses={})
    fresh = await _event(env, [SUBSCRIBER], age_days=0, statuses={SUBSCRIBER: (DELIVERED, 0)})

    assert await purge_delivered(env.db, env.outbox, older_than=timedelta(days=7)) == 2
    e, d = env.outbox.events, env.outbox.deliveries
    async with env.db.engine.begin() as connection:
        left = {row.id for row in await connection.execute(e.select())}
        deliveries_left = {row.event_id for row in await connection.execute(d.select())}
    assert left == {half_done, dead, lately_delivered, fresh}
    assert old_done not in left and no_subscribers not in left
    assert old_done not in deliveries_left  # its delivery rows went with it
    assert await purge_delivered(env.db, env.outbox, older_than=timedelta(days=7)) == 0  # nothing more to do


async def test_purge_is_bounded_per_call(env: Env) -> None:
    for _ in range(5):
        await _event(env, [SUBSCRIBER], age_days=10, statuses={SUBSCRIBER: (DELIVERED, 10)})
    assert await purge_delivered(env.db, env.outbox, older_than=timedelta(days=7), limit=2) == 2
    assert await purge_delivered(env.db, env.outbox, older_than=timedelta(days=7), limit=2) == 2
    assert await purge_delivered(env.db, env.outbox, older_than=timedelta(days=7), limit=2) == 1
    assert await env.count(env.outbox.events) == 0


async def test_the_dispatcher_purges_as_it_runs(env: Env) -> None:
    import asyncio
    import contextlib

    from shared.events import outbox_dispatcher
    from shared.settings import Settings
    from tests.shared.events.support import wait_until

    old = await _event(env, [SUBSCRIBER], age_days=10, statuses={SUBSCRIBER: (DELIVERED, 10)})
    kept = Settings(outbox_retention_days=0)  # 0: keep forever
    task = asyncio.create_task(outbox_dispatcher(PRODUCER, env.outbox, settings=kept)(env.db))
    await asyncio.sleep(0.3)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert await env.count(env.outbox.events, env.outbox.events.c.id == old) == 1

    purging = Settings(outbox_retention_days=7)
    task = asyncio.create_task(outbox_dispatcher(PRODUCER, env.outbox, settings=purging)(env.db))
    try:
        await wait_until(lambda: _gone(env, old))
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _gone(env: Env, event_id: uuid.UUID) -> bool:
    return await env.count(env.outbox.events, env.outbox.events.c.id == event_id) == 0
