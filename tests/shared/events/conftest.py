"""Fixtures for the events tests: a throwaway schema with a producer's outbox and a consumer's inbox,
a real subscriber on a loopback port, and HTTP clients that record what was sent."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, text
from sqlalchemy.dialects.postgresql import UUID
from starlette.applications import Starlette

from shared.database import Database
from shared.events import event_route, inbox_table, outbox_tables
from tests.shared.events.support import PRODUCER, SUBSCRIBER, Behaviour, Env, Recorder, Subscriber, free_port, handlers_for


@pytest.fixture
async def env(database_url: str) -> AsyncIterator[Env]:
    schema = f"events_{uuid.uuid4().hex[:8]}"
    metadata = MetaData()
    outbox = outbox_tables(metadata, schema)
    inbox = inbox_table(metadata, schema)
    effects = Table(
        "effects",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("event_id", UUID(as_uuid=True), nullable=False),
        Column("note", String, nullable=False),
        schema=schema,
    )
    db = Database(database_url)  # its own engine: other tests' app shutdowns dispose the shared ones
    async with db.engine.begin() as connection:
        await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        await connection.run_sync(metadata.create_all)
    try:
        yield Env(db=db, outbox=outbox, inbox=inbox, effects=effects)
    finally:
        async with db.engine.begin() as connection:
            await connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await db.dispose()


@pytest.fixture
def behaviour() -> Behaviour:
    return Behaviour()


@pytest.fixture
async def subscriber(env: Env, behaviour: Behaviour) -> AsyncIterator[Subscriber]:
    """Started; tests stop and restart it to play an outage."""
    app = Starlette(routes=[event_route(SUBSCRIBER, env.inbox, handlers_for(env, behaviour), db=env.db, publishers=[PRODUCER])])
    server = Subscriber(app, free_port())
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def recorder_factory() -> AsyncIterator[Callable[..., Recorder]]:
    made: list[Recorder] = []

    def make(on_response: Callable[[httpx.Response], Awaitable[None]] | None = None) -> Recorder:
        recorder: Recorder

        async def on_request(request: httpx.Request) -> None:
            recorder.posts += 1
            recorder.sent.extend(uuid.UUID(e["id"]) for e in orjson.loads(request.content)["events"])

        hooks: dict[str, list[Any]] = {"request": [on_request]}
        if on_response is not None:
            hooks["response"] = [on_response]
        recorder = Recorder(httpx.AsyncClient(event_hooks=hooks, timeout=10))
        made.append(recorder)
        return recorder

    yield make
    for recorder in made:
        await recorder.client.aclose()
