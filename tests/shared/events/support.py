"""Helpers for the events tests: the tables under test, a real subscriber (uvicorn on a loopback
port serving `event_route`, stoppable and restartable), a recording HTTP client."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from sqlalchemy import Table, func, select
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.applications import Starlette

from shared.database import Database
from shared.events import Event, OutboxTables
from shared.settings import Settings
from live_services import free_port

PRODUCER = "points"
SUBSCRIBER = "members"


@dataclass
class Env:
    db: Database
    outbox: OutboxTables
    inbox: Table
    effects: Table  # what the subscriber's handlers do; no unique key, so a double effect shows

    async def scalar(self, statement: Any) -> Any:
        async with self.db.session() as session:
            return (await session.exec(statement)).scalar_one()

    async def count(self, table: Table, *where: Any) -> int:
        return await self.scalar(select(func.count()).select_from(table).where(*where))

    async def deliveries(self) -> list[Any]:
        d = self.outbox.deliveries
        async with self.db.session() as session:
            return list((await session.exec(select(d).order_by(d.c.event_id))).all())

    async def effect_event_ids(self) -> Counter[uuid.UUID]:
        async with self.db.session() as session:
            rows = (await session.exec(select(self.effects.c.event_id))).all()
        return Counter(row.event_id for row in rows)

    async def seconds_until_due(self, event_id: uuid.UUID) -> float:
        d = self.outbox.deliveries
        return float(
            await self.scalar(
                select(func.extract("epoch", d.c.next_attempt_at - func.clock_timestamp())).where(d.c.event_id == event_id)
            )
        )


@dataclass
class Behaviour:
    """Switches the tests flip on the subscriber's handlers."""

    fragile_broken: bool = True


def handlers_for(env: Env, behaviour: Behaviour) -> dict[str, Callable[[AsyncSession, Event], Awaitable[None]]]:
    async def points_earned(session: AsyncSession, event: Event) -> None:
        await session.exec(env.effects.insert().values(event_id=event.id, note=str(event.payload.get("amount"))))  # type: ignore[call-overload]

    async def fragile(session: AsyncSession, event: Event) -> None:
        # Writes first, then fails: the write must be rolled back with the inbox row.
        await session.exec(env.effects.insert().values(event_id=event.id, note="fragile"))  # type: ignore[call-overload]
        if behaviour.fragile_broken:
            raise RuntimeError("fragile handler is broken")

    return {"PointsEarned": points_earned, "Fragile": fragile}


class _QuietServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:  # leave Ctrl-C to pytest
        yield



class Subscriber:
    """The consuming service: `event_route` served by uvicorn, stoppable and restartable on one port."""

    def __init__(self, app: Starlette, port: int) -> None:
        self.app = app
        self.port = port
        self._server: _QuietServer | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def graphql_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/graphql"

    async def start(self) -> None:
        config = uvicorn.Config(
            self.app, host="127.0.0.1", port=self.port, lifespan="off", log_level="warning", access_log=False
        )
        self._server = _QuietServer(config)
        self._task = asyncio.create_task(self._server.serve())
        deadline = time.monotonic() + 10
        while not self._server.started:
            if self._task.done():
                self._task.result()  # raises why it could not start
            if time.monotonic() > deadline:
                raise TimeoutError("the subscriber did not start")
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await self._task
            self._server = self._task = None


def settings_for(subscriber: Subscriber, **overrides: Any) -> Settings:
    """The producer's settings: the subscriber service's URL points at the test server."""
    return Settings(**{f"{SUBSCRIBER}_url": subscriber.graphql_url, **overrides})


@dataclass
class Recorder:
    """An httpx client that records which event ids each POST carried (what went over the wire)."""

    client: httpx.AsyncClient
    sent: list[uuid.UUID] = field(default_factory=list)
    posts: int = 0

    @property
    def sent_counts(self) -> Counter[uuid.UUID]:
        return Counter(self.sent)


async def wait_until(predicate: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not await predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        await asyncio.sleep(0.02)

