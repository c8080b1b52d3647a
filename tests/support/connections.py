"""A plain asyncpg connection for tests that act as a given database user (an admin, a role)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from shared.database.urls import to_libpq_url


@asynccontextmanager
async def connected(url: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(to_libpq_url(url))
    try:
        yield connection
    finally:
        await connection.close()
