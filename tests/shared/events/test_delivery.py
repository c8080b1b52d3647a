"""Delivery over real HTTP to a real subscriber: once, with retries and backoff, dead letters,
per-event failures, unknown types, and low latency within a process."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import pytest
from sqlalchemy import select

from shared.events import (
    DEAD,
    DELIVERED,
    PENDING,
    RetryPolicy,
    dispatch_once,
    events_url,
    outbox_dispatcher,
    publish,
    requeue_dead,
)
from shared.settings import Settings
from tests.shared.events.support import (
    PRODUCER,
    SUBSCRIBER,
    Behaviour,
    Env,
    Recorder,
    Subscriber,
    settings_for,
    wait_until,
)


class _NoJitter(RetryPolicy):
    """Full steps, so the test can see them double (jitter has its own test below)."""

    def delay(self, attempts: int, rand: Callable[[], float] = lambda: 1.0) -> float:
        return super().delay(attempts, rand=lambda: 1.0)


async def _publish(env: Env, type_: str = "PointsEarned", amount: int = 1):  # noqa: ANN202
    async with env.db.transaction() as session:
        return await publish(
            session, env.outbox, type=type_, payload={"amount": amount}, subscribers=[SUBSCRIBER], producer=PRODUCER
        )


async def test_a_committed_event_is_delivered_once_and_promptly_by_the_running_dispatcher(
    env: Env, subscriber: Subscriber, recorder_factory
) -> None:  # noqa: ANN001
    recorder: Recorder = recorder_factory()
    # A poll interval far longer than the test: only the in-process wake-up can explain a quick delivery.
    settings = settings_for(subscriber, outbox_poll_interval_seconds=60)
    loop = asyncio.create_task(outbox_dispatcher(PRODUCER, env.outbox, settings=settings, client=recorder.client)(env.db))
    try:
        await asyncio.sleep(0.2)  # the dispatcher has found nothing and is waiting
        started = time.monotonic()
        event_id = await _publish(env, amount=7)

        async def delivered() -> bool:
            return (await env.deliveries())[0].status == DELIVERED

        await wait_until(delivered, timeout=5)
        assert time.monotonic() - started < 5
        await asyncio.sleep(0.3)  # later rounds must not send it again
    finally:
        loop.cancel()
        await asyncio.gather(loop, return_exceptions=True)
    assert recorder.sent == [event_id]
    assert await env.effect_event_ids() == {event_id: 1}
    (row,) = await env.deliveries()
    assert row.attempts == 1 and row.delivered_at is not None and row.leased_until is None


async def test_a_down_subscriber_is_retried_with_growing_backoff_and_served_when_back(
    env: Env, subscriber: Subscriber
) -> None:
    await subscriber.stop()
    settings = settings_for(subscriber)
    retry = _NoJitter(base_seconds=0.4, max_seconds=10)  # steps of 0.4 s, then 0.8 s
    event_id = await _publish(env)

    first = await dispatch_once(env.db, PRODUCER, env.outbox, settings=settings, retry=retry)
    assert (first.claimed, first.retried, first.delivered) == (1, 1, 0)
    (row,) = await env.deliveries()
    assert row.status == PENDING and row.attempts == 1 and "Connect" in row.last_error
    assert 0.25 <= await env.seconds_until_due(event_id) <= 0.4

    # Not due yet: a second round leaves it alone instead of hammering the subscriber.
    assert (await dispatch_once(env.db, PRODUCER, env.outbox, settings=settings, retry=retry)).claimed == 0

    await asyncio.sleep(await env.seconds_until_due(event_id) + 0.05)
    second = await dispatch_once(env.db, PRODUCER, env.outbox, settings=settings, retry=retry)
    assert second.retried == 1
    assert 0.65 <= await env.seconds_until_due(event_id) <= 0.8  # the step doubled

    await subscriber.start()  # the subscriber restarts; nothing was lost meanwhile
    await asyncio.sleep(await env.seconds_until_due(event_id) + 0.05)
    third = await dispatch_once(env.db, PRODUCER, env.outbox, settings=settings, retry=retry)
    assert third.delivered == 1
    (row,) = await env.deliveries()
    assert row.status == DELIVERED and row.attempts == 3 and row.last_error is None
    assert await env.effect_event_ids() == {event_id: 1}


async def test_after_the_last_attempt_a_delivery_is_dead_logged_and_can_be_requeued(
    env: Env, subscriber: Subscriber, caplog: pytest.LogCaptureFixture
) -> None:
    await subscriber.stop()
    settings = settings_for(subscriber)
    retry = RetryPolicy(base_seconds=0.01, max_seconds=0.01, max_attempts=2)
    event_id = await _publish(env)
    with caplog.at_level(logging.ERROR, logger="abg.events"):
        assert (await dispatch_once(env.db, PRODUCER, env.outbox, settings=settings, retry=retry)).retried == 1
        await asyncio.sleep(0.05)
        assert (await dispatch_once(env.db, PRODUCER, env.outbox, settings=settings, retry=retry)).dead == 1
    assert any(str(event_id) in r.getMessage() and "dead" in r.getMessage() for r in caplog.records)
    (row,) = await env.deliveries()
    assert row.status == DEAD and row.attempts == 2
    await asyncio.sleep(0.05)
    assert (await dispatch_once(env.db, PRODUCER, env.outbox, settings=settings, retry=retry)).claimed == 0

    await subscriber.start()
    assert await requeue_dead(env.db, env.outbox, subscriber=SUBSCRIBER) == 1
    assert (await dispatch_once(env.db, PRODUCER, env.outbox, settings=settings, retry=retry)).delivered == 1
    assert await env.effect_event_ids() == {event_id: 1}


async def test_a_failing_handler_fails_only_its_event_which_is_retried_alone(
    env: Env, subscriber: Subscriber, behaviour: Behaviour, recorder_factory
) -> None:  # noqa: ANN001
    recorder: Recorder = recorder_factory()
    settings = settings_for(subscriber)
    retry = RetryPolicy(base_seconds=0.05, max_seconds=0.05)
    before = await _publish(env, amount=1)
    fragile = await _publish(env, "Fragile")
    after = await _publish(env, amount=2)

    result = await dispatch_once(env.db, PRODUCER, env.outbox, settings=settings, retry=retry, client=recorder.client)
    assert (result.delivered, result.retried) == (2, 1)
    assert recorder.posts == 1  # one batch for the three
    rows = {row.event_id: row for row in await env.deliveries()}
    assert rows[before].status == rows[after].status == DELIVERED
    assert rows[fragile].status == PENDING and "fragile handler is broken" in rows[fragile].last_error
    # The handler's own write was rolled back with its inbox row.
    assert await env.effect_event_ids() == {before: 1, after: 1}
    assert await env.count(env.inbox, env.inbox.c.event_id == fragile) == 0

    behaviour.fragile_broken = False
    await asyncio.sleep(0.1)
    result = await dispatch_once(env.db, PRODUCER, env.outbox, settings=settings, retry=retry, client=recorder.client)
    assert result.delivered == 1
    assert recorder.sent_counts == {before: 1, after: 1, fragile: 2}
    assert await env.effect_event_ids() == {before: 1, after: 1, fragile: 1}


async def test_an_event_type_the_subscriber_does_not_handle_is_recorded_and_acknowledged(
    env: Env, subscriber: Subscriber
) -> None:
    event_id = await _publish(env, "SomethingNew")
    result = await dispatch_once(env.db, PRODUCER, env.outbox, settings=settings_for(subscriber))
    assert result.delivered == 1  # not retried forever
    async with env.db.session() as session:
        handled = (await session.exec(select(env.inbox.c.handled).where(env.inbox.c.event_id == event_id))).scalar_one()
    assert handled is False
    assert await env.effect_event_ids() == {}


async def test_large_batches_are_split_to_fit_the_subscribers_body_limit(
    env: Env, subscriber: Subscriber, recorder_factory
) -> None:  # noqa: ANN001
    recorder: Recorder = recorder_factory()
    ids = [await _publish(env, amount=i) for i in range(6)]
    # Each event is about 150 bytes on the wire; half of 700 fits two per request.
    settings = settings_for(subscriber, max_body_bytes=700)
    result = await dispatch_once(env.db, PRODUCER, env.outbox, settings=settings, client=recorder.client)
    assert result.delivered == 6
    assert recorder.posts == 3
    assert sorted(recorder.sent) == sorted(ids)


def test_backoff_doubles_up_to_its_cap_with_jitter_between_half_and_all() -> None:
    policy = RetryPolicy(base_seconds=1, max_seconds=10)
    assert [policy.delay(n, rand=lambda: 1.0) for n in range(1, 7)] == [1, 2, 4, 8, 10, 10]
    assert [policy.delay(n, rand=lambda: 0.0) for n in range(1, 7)] == [0.5, 1, 2, 4, 5, 5]
    assert len({policy.delay(3) for _ in range(20)}) > 1  # jittered


def test_the_events_url_is_the_graphql_url_without_graphql() -> None:
    settings = Settings(members_url="http://members.internal:8000/graphql", points_url="https://p.example/api/graphql/")
    assert events_url(settings, "members") == "http://members.internal:8000/events"
    assert events_url(settings, "points") == "https://p.example/api/events"
    assert events_url(Settings(host="10.0.0.5", benefits_port=9003), "benefits") == "http://10.0.0.5:9003/events"
