"""A frozen database under points: a hold whose caller's time runs out answers in time with
DEADLINE_EXCEEDED, and nothing is committed once the database moves again."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest

from services.points import events
from services.points.models import Hold
from services.points.schema import schema
from shared.auth.tokens import mint_token
from shared.database.urls import to_libpq_url
from shared.federation import create_subgraph_app

HOLD = """mutation($input: HoldInput!) { holdPoints(input: $input) { id status } }"""


@pytest.fixture
async def http(db: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_subgraph_app(service="points", schema=schema, routes=[events.events_route()])
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://points") as client:
            yield client


async def _hold(http: httpx.AsyncClient, member: str, key: str, timeout_ms: str) -> dict:
    headers = {
        "authorization": f"Bearer {mint_token('service', 'redemptions')}",
        "x-request-timeout-ms": timeout_ms,
    }
    variables = {"input": {"memberId": member, "points": 10, "ttlSeconds": 600, "reference": "r", "idempotencyKey": key}}
    response = await http.post("/graphql", json={"query": HOLD, "variables": variables}, headers=headers)
    return response.json()


async def test_a_hold_against_a_frozen_database_fails_in_time_and_is_never_committed(
    kit, http: httpx.AsyncClient, db: str  # noqa: ANN001
) -> None:
    member = str(await kit.member(100))
    locker = await asyncpg.connect(to_libpq_url(db))
    try:
        tables = [r["t"] for r in await locker.fetch(
            "SELECT format('%I.%I', schemaname, tablename) AS t FROM pg_tables WHERE schemaname = $1",
            Hold.__table__.schema,
        )]
        async with locker.transaction():  # every points table frozen, as a stalled database would be
            await locker.execute(f"LOCK TABLE {', '.join(tables)} IN ACCESS EXCLUSIVE MODE")
            started = time.monotonic()
            body = await asyncio.wait_for(_hold(http, member, "frozen-1", "400"), timeout=10)
            elapsed = time.monotonic() - started
        (error,) = body["errors"]
        assert error["extensions"]["code"] == "DEADLINE_EXCEEDED"
        assert error["extensions"]["outcome"] == "NOT_APPLIED"
        assert elapsed < 2.5
        await asyncio.sleep(0.3)  # the database moves again: nothing was left waiting to commit
        assert await locker.fetchval(f"SELECT count(*) FROM {Hold.__table__.fullname}") == 0
        assert (await kit.balances(member)).held == 0
    finally:
        await locker.close()

    # Not applied means the same key may be sent again: it holds once.
    again = await _hold(http, member, "frozen-1", "5000")
    assert again["data"]["holdPoints"]["status"] == "ACTIVE"
