"""Crashes and concurrency: a dispatcher dying between sending and recording loses and doubles
nothing; concurrent dispatchers take disjoint deliveries."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from shared.events import DELIVERED, dispatch_once, outbox_dispatcher, publish
from shared.events import dispatcher as dispatcher_module
from shared.events.dispatcher import RetryPolicy, claim, record_outcome
from shared.settings import Settings
from tests.shared.events.support import PRODUCER, SUBSCRIBER, Env, Recorder, Subscriber, settings_for, wait_until

LEASE = 1.0  # seconds; short so the tests see leases run out


async def _publish_many(env: Env, n: int) -> list[uuid.UUID]:
    async with env.db.transaction() as session:
        return [
            await publish(session, env.outbox, type="PointsEarned", payload={"amount": i}, subscribers=[SUBSCRIBER], producer=PRODUCER)
            for i in range(n)
        ]


async def _all_delivered(env: Env) -> bool:
    return all(row.status == DELIVERED for row in await env.deliveries())


async def test_a_crash_after_sending_before_recording_redelivers_after_the_lease_and_changes_nothing(
    env: Env, subscriber: Subscriber, recorder_factory, monkeypatch: pytest.MonkeyPatch
) -> None:  # noqa: ANN001
    recorder: Recorder = recorder_factory()
    settings = settings_for(subscriber)
    ids = await _publish_many(env, 5)

    async def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("process killed before recording the outcome")

    with monkeypatch.context() as patch:
        patch.setattr(dispatcher_module, "record_outcome", crash)
        with pytest.raises(RuntimeError, match="killed"):
            await dispatch_once(env.db, PRODUCER, env.outbox, settings=settings, client=recorder.client, lease_seconds=LEASE)
    assert sorted(recorder.sent) == sorted(ids)  # the subscriber got and handled them...
    assert await env.effect_event_ids() == {i: 1 for i in ids}
    assert all(row.status == "pending" and row.leased_until is not None for row in await env.deliveries())  # ...unrecorded

    # A new dispatcher ("after the restart") leaves them alone while the lease holds...
    assert (await dispatch_once(env.db, PRODUCER, env.outbox, settings=settings, client=recorder.client, lease_seconds=LEASE)).claimed == 0
    await asyncio.sleep(LEASE + 0.1)
    # ...then sends them again; the inbox recognises them, so nothing happens twice.
    result = await dispatch_once(env.db, PRODUCER, env.outbox, settings=settings, client=recorder.client, lease_seconds=LEASE)
    assert result.delivered == 5
    assert recorder.sent_counts == {i: 2 for i in ids}
    assert await env.effect_event_ids() == {i: 1 for i in ids}
    assert await env.count(env.inbox) == 5
    assert all(row.status == DELIVERED and row.attempts == 2 for row in await env.deliveries())


async def test_a_dispatcher_task_cancelled_mid_delivery_is_replaced_without_loss_or_double_effect(
    env: Env, subscriber: Subscriber, recorder_factory
) -> None:  # noqa: ANN001
    answered = asyncio.Event()

    async def stall_after_answer(response: httpx.Response) -> None:
        # The subscriber has answered (so has committed); the dispatcher "dies" right here.
        answered.set()
        await asyncio.sleep(3600)

    stalling: Recorder = recorder_factory(on_response=stall_after_answer)
    fresh: Recorder = recorder_factory()
    settings = settings_for(subscriber, outbox_poll_interval_seconds=0.05)
    ids = await _publish_many(env, 3)

    first = asyncio.create_task(
        outbox_dispatcher(PRODUCER, env.outbox, settings=settings, client=stalling.client, lease_seconds=LEASE)(env.db)
    )
    await asyncio.wait_for(answered.wait(), 10)
    first.cancel()
    await asyncio.gather(first, return_exceptions=True)
    assert not await _all_delivered(env)

    second = asyncio.create_task(
        outbox_dispatcher(PRODUCER, env.outbox, settings=settings, client=fresh.client, lease_seconds=LEASE)(env.db)
    )
    try:
        await wait_until(lambda: _all_delivered(env), timeout=10)
    finally:
        second.cancel()
        await asyncio.gather(second, return_exceptions=True)
    assert sorted(stalling.sent) == sorted(ids)
    assert sorted(fresh.sent) == sorted(ids)  # resent only after the dead one's lease ran out
    assert await env.effect_event_ids() == {i: 1 for i in ids}


async def test_a_claim_skips_deliveries_another_dispatcher_has_locked(env: Env) -> None:
    ids = await _publish_many(env, 4)
    d = env.outbox.deliveries
    async with env.db.engine.connect() as other:
        transaction = await other.begin()
        # Another dispatcher is in the middle of claiming the first two.
        await other.execute(select(d.c.event_id).where(d.c.event_id.in_(ids[:2])).with_for_update())
        try:
            claimed = await asyncio.wait_for(claim(env.db, env.outbox, limit=10, lease=timedelta(seconds=30)), 5)
        finally:
            await transaction.rollback()
    assert sorted(c.event.id for c in claimed) == sorted(ids[2:])
    # Once the other lets go, its rows are claimable; everything claimed stays taken for the lease.
    rest = await claim(env.db, env.outbox, limit=10, lease=timedelta(seconds=30))
    assert sorted(c.event.id for c in rest) == sorted(ids[:2])
    assert await claim(env.db, env.outbox, limit=10, lease=timedelta(seconds=30)) == []


async def test_concurrent_dispatchers_deliver_every_event_once(
    env: Env, subscriber: Subscriber, recorder_factory
) -> None:  # noqa: ANN001
    ids = await _publish_many(env, 240)
    # Small batches so the dispatchers go round many times and really compete.
    settings = settings_for(subscriber, outbox_batch_size=6, outbox_poll_interval_seconds=0.05)
    recorders: list[Recorder] = [recorder_factory() for _ in range(4)]
    tasks = [
        asyncio.create_task(outbox_dispatcher(PRODUCER, env.outbox, settings=settings, client=r.client)(env.db))
        for r in recorders
    ]
    try:
        await wait_until(lambda: _all_delivered(env), timeout=60)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    sent = [event_id for r in recorders for event_id in r.sent]
    assert sorted(sent) == sorted(ids)  # each sent exactly once, across all dispatchers
    assert sum(1 for r in recorders if r.sent) >= 2  # they did share the work
    assert await env.effect_event_ids() == {i: 1 for i in ids}



async def test_a_dispatcher_that_outlived_its_lease_cannot_undo_the_new_owners_claim(env: Env) -> None:
    (event_id,) = await _publish_many(env, 1)
    (stale,) = await claim(env.db, env.outbox, limit=10, lease=timedelta(seconds=0.2))
    await asyncio.sleep(0.3)  # the first dispatcher stalls past its lease...
    (current,) = await claim(env.db, env.outbox, limit=10, lease=timedelta(seconds=30))  # ...and another takes over
    # The stale one now reports a failure; it must not release or reschedule the other's lease.
    await record_outcome(env.db, env.outbox, [stale], {event_id: "timed out"}, RetryPolicy(), Settings())
    (row,) = await env.deliveries()
    assert row.leased_until == current.leased_until and row.last_error is None and row.attempts == 2
    assert await claim(env.db, env.outbox, limit=10, lease=timedelta(seconds=30)) == []
