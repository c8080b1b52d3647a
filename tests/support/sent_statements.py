"""What a process actually sent PostgreSQL, whichever way it went: through SQLAlchemy or straight
on the driver (hot reads do). Every connection opened while recording logs its queries."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine


@asynccontextmanager
async def sent_statements(engine: AsyncEngine) -> AsyncIterator[list[str]]:
    """The statements sent while inside; the pool is emptied first, so every connection is new."""
    sent: list[str] = []
    await engine.dispose()

    def log_queries(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.driver_connection.add_query_logger(lambda record: sent.append(record.query))

    event.listen(engine.sync_engine, "connect", log_queries)
    try:
        yield sent
    finally:
        event.remove(engine.sync_engine, "connect", log_queries)
        await engine.dispose()  # no later test inherits a logging connection
