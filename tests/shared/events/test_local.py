"""Local subscribers: batches handed to a function in the producing process, with the outbox's leases,
retries and dead letters; and rounds limited to some subscribers."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence

from shared.database import Database
from shared.events import DEAD, DELIVERED, PENDING, Event, RetryPolicy, dispatch_once, publish
from tests.shared.events.support import PRODUCER, SUBSCRIBER, Env, Recorder

LOCAL = "webhooks"


async def _publish(env: Env, amount: int, subscribers: Sequence[str]) -> uuid.UUID:
    async with env.db.transaction() as session:
        return await publish(
            session, env.outbox, type="PointsEarned", payload={"amount": amount}, subscribers=subscribers, producer=PRODUCER
        )


def _statuses(deliveries: Sequence) -> dict[tuple[uuid.UUID, str], str]:  # type: ignore[type-arg]
    return {(d.event_id, d.subscriber): d.status for d in deliveries}


async def test_a_round_of_local_subscribers_only_leaves_remote_deliveries_alone(env: Env, recorder_factory) -> None:  # noqa: ANN001
    recorder: Recorder = recorder_factory()
    taken: list[Event] = []

    async def take(db: Database, events: Sequence[Event]) -> Mapping[uuid.UUID, str | None]:
        assert db is env.db
        taken.extend(events)
        return {event.id: None for event in events}

    first = await _publish(env, 1, [SUBSCRIBER, LOCAL])
    second = await _publish(env, 2, [LOCAL])
    result = await dispatch_once(env.db, PRODUCER, env.outbox, client=recorder.client, local={LOCAL: take}, subscribers={LOCAL})
    assert (result.claimed, result.delivered) == (2, 2)
    assert [e.id for e in taken] == [first, second] and taken[1].payload == {"amount": 2}
    assert recorder.posts == 0  # the remote subscriber's delivery was not even claimed
    assert _statuses(await env.deliveries()) == {
        (first, SUBSCRIBER): PENDING, (first, LOCAL): DELIVERED, (second, LOCAL): DELIVERED,
    }


async def test_a_failing_local_subscriber_is_retried_and_finally_dead(env: Env) -> None:
    calls = 0

    async def broken(db: Database, events: Sequence[Event]) -> Mapping[uuid.UUID, str | None]:
        nonlocal calls
        calls += 1
        raise RuntimeError("database is down")

    event_id = await _publish(env, 1, [LOCAL])
    retry = RetryPolicy(base_seconds=0.0, max_attempts=2)
    first = await dispatch_once(env.db, PRODUCER, env.outbox, local={LOCAL: broken}, retry=retry)
    assert (first.claimed, first.retried) == (1, 1)
    (row,) = await env.deliveries()
    assert row.status == PENDING and row.last_error == "RuntimeError: database is down"
    second = await dispatch_once(env.db, PRODUCER, env.outbox, local={LOCAL: broken}, retry=retry)
    assert second.dead == 1 and calls == 2
    assert _statuses(await env.deliveries()) == {(event_id, LOCAL): DEAD}


async def test_a_local_subscriber_may_refuse_some_events_of_a_batch(env: Env) -> None:
    async def picky(db: Database, events: Sequence[Event]) -> Mapping[uuid.UUID, str | None]:
        # Says nothing about the second event: unacknowledged counts as failed.
        return {events[0].id: None}

    first, second = await _publish(env, 1, [LOCAL]), await _publish(env, 2, [LOCAL])
    result = await dispatch_once(env.db, PRODUCER, env.outbox, local={LOCAL: picky}, retry=RetryPolicy(base_seconds=60))
    assert (result.delivered, result.retried) == (1, 1)
    rows = {d.event_id: d for d in await env.deliveries()}
    assert rows[first].status == DELIVERED
    assert rows[second].status == PENDING and rows[second].last_error == "not acknowledged by the subscriber"
