"""The notification hub on a real PostgreSQL: committed NOTIFYs reach the subscribers of their key
only, a slow subscriber neither blocks another nor grows without bound, and a lost connection is
re-opened with a RESYNC for everyone."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from shared.database.urls import to_libpq_url
from shared.errors import ServiceUnavailable
from shared.notifications import RESYNC, NotificationHub, Subscription

WAIT = 30.0


@pytest.fixture
async def hub(database_url: str) -> AsyncIterator[NotificationHub]:
    found = NotificationHub(database_url, reconnect_delay=0.05)
    yield found
    await found.close()


@pytest.fixture
async def sql(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(to_libpq_url(database_url))
    yield connection
    await connection.close()


def channel() -> str:
    return f"test_{uuid.uuid4().hex[:8]}"


async def next_of(subscription: Subscription) -> str | None:
    return await asyncio.wait_for(subscription.next(), WAIT)


async def test_a_committed_notification_reaches_the_subscribers_of_its_key_only(hub: NotificationHub, sql: asyncpg.Connection) -> None:
    ch = channel()
    async with await hub.subscribe(ch, "a") as a, await hub.subscribe(ch, "b") as b:
        await sql.execute("SELECT pg_notify($1, 'a:one')", ch)
        await sql.execute("SELECT pg_notify($1, 'b:two')", ch)
        assert await next_of(a) == "one"
        assert await next_of(b) == "two"  # b's first: it never got a's
        await sql.execute("SELECT pg_notify($1, 'a')", ch)
        assert await next_of(a) == ""  # a payload that is only the key


async def test_a_rolled_back_notification_is_never_delivered(hub: NotificationHub, sql: asyncpg.Connection) -> None:
    ch = channel()
    async with await hub.subscribe(ch, "a") as a:
        transaction = sql.transaction()
        await transaction.start()
        await sql.execute("SELECT pg_notify($1, 'a:rolled-back')", ch)
        await transaction.rollback()
        await sql.execute("SELECT pg_notify($1, 'a:committed')", ch)
        assert await next_of(a) == "committed"


async def test_a_slow_subscriber_does_not_block_another_and_ends_on_a_resync(hub: NotificationHub, sql: asyncpg.Connection) -> None:
    ch = channel()
    async with await hub.subscribe(ch, "m", max_pending=1000) as fast, await hub.subscribe(ch, "m", max_pending=4) as slow:
        for i in range(50):
            await sql.execute("SELECT pg_notify($1, $2)", ch, f"m:{i}")
        # The fast one reads every change while the slow one reads nothing.
        assert [await next_of(fast) for _ in range(50)] == [str(i) for i in range(50)]
        # The slow one kept at most four, then gave them all up for one re-read of everything.
        assert await next_of(slow) is RESYNC
        assert slow.dropped >= 46
        await sql.execute("SELECT pg_notify($1, 'm:after')", ch)
        assert await next_of(slow) == "after"


async def test_repeated_details_wait_once() -> None:
    subscription = Subscription("c", "k", max_pending=10, on_close=lambda _: None)
    for detail in ("r1", "r2", "r1", "r1"):
        subscription.offer(detail)
    assert [await subscription.next(), await subscription.next()] == ["r2", "r1"]
    assert subscription.dropped == 0


async def test_a_lost_connection_is_reopened_and_subscribers_told_to_re_read(hub: NotificationHub, sql: asyncpg.Connection) -> None:
    ch = channel()
    async with await hub.subscribe(ch, "a") as a:
        pid = hub._connection.get_server_pid()  # type: ignore[union-attr]
        assert await sql.fetchval("SELECT pg_terminate_backend($1)", pid)
        assert await next_of(a) is RESYNC
        assert hub.connections_opened == 2
        await sql.execute("SELECT pg_notify($1, 'a:again')", ch)
        assert await next_of(a) == "again"


async def test_closed_subscriptions_are_forgotten(hub: NotificationHub) -> None:
    ch = channel()
    async with await hub.subscribe(ch, "a"):
        assert hub.subscriber_count(ch, "a") == 1
    assert hub.subscriber_count(ch, "a") == 0


async def test_an_unreachable_database_is_a_typed_unavailability() -> None:
    from live_services import free_port

    hub = NotificationHub(f"postgresql+asyncpg://nobody:secret@127.0.0.1:{free_port()}/none", reconnect_delay=0.05, connect_timeout=1)
    ch = channel()
    try:
        with pytest.raises(ServiceUnavailable):
            await hub.subscribe(ch, "a")
        assert hub.subscriber_count(ch, "a") == 0  # the refused subscription is not kept
    finally:
        await hub.close()
