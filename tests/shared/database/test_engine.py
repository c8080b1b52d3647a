"""The engine's pool keeps the connections a busy service needs, instead of opening and dropping
one per request once load passes a small pool."""

from __future__ import annotations

import asyncio

from sqlalchemy import event, select, text

from shared.database import Database, Prepared


async def test_a_busy_process_reuses_its_connections(database_url: str) -> None:
    db = Database(database_url)  # the shipped pool settings
    opened: list[object] = []
    event.listen(db.engine.sync_engine, "connect", lambda connection, _record: opened.append(connection))
    concurrent = 20  # a subgraph process under the benchmarks' load
    slow = Prepared(select(text("1 FROM pg_sleep(0.05)")))
    try:
        for _ in range(3):
            await asyncio.gather(*(db.read(slow) for _ in range(concurrent)))
    finally:
        await db.dispose()
    # The first round opened what it needed; the next rounds found them all in the pool.
    assert len(opened) == concurrent
