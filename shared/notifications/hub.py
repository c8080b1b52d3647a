"""PostgreSQL notifications fanned out to in-process subscribers: one LISTEN connection per process.

A trigger (or a statement in the writing transaction) calls `pg_notify(channel, '<key>[:<detail>]')`;
PostgreSQL delivers it only once that transaction commits. The hub holds one dedicated asyncpg
connection (outside the pool: a LISTEN lives as long as its connection), LISTENs on every channel a
subscriber asked for, and hands each notification to the subscribers of its (channel, key), e.g. one
member's feed. Each subscriber has a bounded inbox (`Subscription`), so a slow one never holds up
the others or the listener.

If the connection fails it is opened again after `reconnect_delay`; notifications sent meanwhile
are lost, so every subscriber then gets `RESYNC` and re-reads its state. A connection that silently
died (no FIN on a broken network) is found by a `SELECT 1` every `health_interval`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import asyncpg

from shared.database.urls import to_libpq_url
from shared.errors import ServiceUnavailable
from shared.notifications.subscription import RESYNC, Subscription

log = logging.getLogger("abg.notifications")

DEFAULT_MAX_PENDING = 64


class NotificationHub:
    def __init__(self, url: str, *, reconnect_delay: float = 1.0, health_interval: float = 15.0,
                 connect_timeout: float = 10.0) -> None:
        self._dsn = to_libpq_url(url)
        self.reconnect_delay = reconnect_delay
        self.health_interval = health_interval
        self.connect_timeout = connect_timeout
        self._subscribers: dict[tuple[str, str], set[Subscription]] = {}
        self._channels: set[str] = set()  # asked for by any subscriber, ever
        self._listening: set[str] = set()  # LISTENed on the current connection
        self._connection: asyncpg.Connection | None = None
        self._connected = asyncio.Event()
        self._lock = asyncio.Lock()  # one statement at a time on the connection
        self._task: asyncio.Task[None] | None = None
        self.connections_opened = 0  # for tests and logs

    async def subscribe(self, channel: str, key: str, *, max_pending: int = DEFAULT_MAX_PENDING) -> Subscription:
        """A subscription to `channel`'s notifications for `key`, already listening when this
        returns: a change committed after it is delivered. Close it (or use `async with`).
        `ServiceUnavailable` if no listening connection could be had within `connect_timeout`."""
        subscription = Subscription(channel, key, max_pending=max_pending, on_close=self._forget)
        self._subscribers.setdefault((channel, key), set()).add(subscription)
        try:
            await self._listen(channel)
        except BaseException:
            subscription.close()
            raise
        return subscription

    def subscriber_count(self, channel: str, key: str) -> int:
        return len(self._subscribers.get((channel, key), ()))

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def _forget(self, subscription: Subscription) -> None:
        found = self._subscribers.get((subscription.channel, subscription.key))
        if found is not None:
            found.discard(subscription)
            if not found:
                del self._subscribers[(subscription.channel, subscription.key)]

    async def _listen(self, channel: str) -> None:
        self._channels.add(channel)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="notifications-listener")
        try:
            async with asyncio.timeout(self.connect_timeout):
                while True:
                    await self._connected.wait()
                    async with self._lock:
                        connection = self._connection
                        if connection is not None and not connection.is_closed():
                            if channel not in self._listening:
                                await connection.add_listener(channel, self._deliver)
                                self._listening.add(channel)
                            return
                    # lost meanwhile: let the listener notice, clear `_connected` and open another
                    await asyncio.sleep(0.05)
        except TimeoutError:
            raise ServiceUnavailable("live updates are unavailable: the database cannot be reached") from None

    def _deliver(self, _connection: Any, _pid: int, channel: str, payload: str) -> None:
        key, _, detail = payload.partition(":")
        for subscription in tuple(self._subscribers.get((channel, key), ())):
            subscription.offer(detail)

    async def _run(self) -> None:
        opened_before = False
        while True:
            try:
                await self._serve_one_connection(resync=opened_before)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - lost or refused: try again shortly
                log.warning("notification listener: %r; reconnecting in %.1f s", error, self.reconnect_delay)
            opened_before = opened_before or self.connections_opened > 0
            await asyncio.sleep(self.reconnect_delay)

    async def _serve_one_connection(self, *, resync: bool) -> None:
        connection = await asyncpg.connect(self._dsn, timeout=self.connect_timeout)
        lost = asyncio.Event()
        connection.add_termination_listener(lambda _: lost.set())
        try:
            async with self._lock:
                for channel in sorted(self._channels):
                    await connection.add_listener(channel, self._deliver)
                self._listening = set(self._channels)
                self._connection = connection
            self.connections_opened += 1
            self._connected.set()
            if resync:  # whatever was sent while no connection listened is lost: re-read
                for subscriptions in tuple(self._subscribers.values()):
                    for subscription in tuple(subscriptions):
                        subscription.offer(RESYNC)
            while not lost.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(lost.wait(), self.health_interval)
                    break
                async with self._lock:
                    await connection.fetchval("SELECT 1", timeout=self.connect_timeout)
            raise ConnectionError("the listening connection was closed")
        finally:
            self._connected.clear()
            self._connection = None
            self._listening = set()
            connection.terminate()
