"""Publishing into the outbox: in the caller's transaction, one delivery per subscriber."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from shared.events import EventSubscriptions, PENDING, dispatch_once, publish
from tests.shared.events.support import PRODUCER, SUBSCRIBER, Env, Recorder, Subscriber, settings_for


class Boom(Exception):
    pass


async def test_a_rolled_back_publish_leaves_nothing_and_sends_nothing(
    env: Env, subscriber: Subscriber, recorder_factory
) -> None:  # noqa: ANN001
    recorder: Recorder = recorder_factory()
    with pytest.raises(Boom):
        async with env.db.transaction() as session:
            await publish(session, env.outbox, type="PointsEarned", payload={"amount": 5}, subscribers=[SUBSCRIBER], producer=PRODUCER)
            raise Boom()  # the change failed after the event was written
    assert await env.count(env.outbox.events) == 0
    assert await env.count(env.outbox.deliveries) == 0
    result = await dispatch_once(env.db, PRODUCER, env.outbox, settings=settings_for(subscriber), client=recorder.client)
    assert result.claimed == 0
    assert recorder.posts == 0
    assert await env.count(env.inbox) == 0


async def test_a_committed_publish_writes_the_event_and_one_pending_delivery_per_subscriber(env: Env) -> None:
    member = uuid.uuid4()
    async with env.db.transaction() as session:
        event_id = await publish(
            session,
            env.outbox,
            type="TierChanged",
            payload={"member": member, "at": datetime(2026, 1, 2, tzinfo=UTC), "tier": "GOLD"},
            subscribers=["points", "benefits", "points"],  # a repeated name gets one delivery
            producer="members",
        )
    assert event_id.version == 7
    deliveries = await env.deliveries()
    assert sorted(d.subscriber for d in deliveries) == ["benefits", "points"]
    assert all(d.status == PENDING and d.attempts == 0 and d.leased_until is None for d in deliveries)
    payload = await env.scalar(env.outbox.events.select().with_only_columns(env.outbox.events.c.payload))
    # JSON on the way in, so consumers get exactly what was stored.
    assert payload == {"member": str(member), "at": "2026-01-02T00:00:00+00:00", "tier": "GOLD"}


async def test_an_unserialisable_payload_fails_the_change(env: Env) -> None:
    with pytest.raises(TypeError):
        async with env.db.transaction() as session:
            await publish(session, env.outbox, type="X", payload={"bad": object()}, subscribers=[SUBSCRIBER])
    assert await env.count(env.outbox.events) == 0


def test_subscriptions_name_every_published_type() -> None:
    subscriptions = EventSubscriptions({"TierChanged": ["points", "benefits", "points"], "MemberErased": []})
    assert subscriptions["TierChanged"] == ("points", "benefits")
    assert subscriptions["MemberErased"] == ()
    assert set(subscriptions) == {"TierChanged", "MemberErased"}
    with pytest.raises(KeyError, match="TierChagned"):
        subscriptions["TierChagned"]  # a typo must not silently reach nobody
    with pytest.raises(TypeError):
        EventSubscriptions({"TierChanged": "points"})  # type: ignore[dict-item]


async def test_the_producer_defaults_to_the_service_that_owns_the_outbox_schema(env: Env) -> None:
    async with env.db.transaction() as session:
        await publish(session, env.outbox, type="X", payload={}, subscribers=[])
    producer = await env.scalar(env.outbox.events.select().with_only_columns(env.outbox.events.c.producer))
    assert producer == env.outbox.events.schema
    assert await env.count(env.outbox.deliveries) == 0  # no subscribers yet: kept, sent nowhere
