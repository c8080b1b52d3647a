"""Which database a service uses: the configured URL, or the embedded server's."""

from __future__ import annotations

import asyncpg

from shared.database.urls import to_async_url, to_libpq_url, with_database
from shared.settings import Settings, get_settings

# The database on the embedded server that the services share (each in its own schema).
EMBEDDED_DATABASE = "alliance"


async def ensure_database(server_url: str, name: str) -> str:
    """Creates database `name` on the server if missing; returns its URL."""
    connection = await asyncpg.connect(to_libpq_url(server_url))
    try:
        exists = await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return with_database(server_url, name)


async def database_url_for(service: str, settings: Settings | None = None) -> str:
    """The configured URL for the service; without one, the embedded server (started if needed)."""
    settings = settings or get_settings()
    configured = settings.database_url_of(service)
    if configured:
        return to_async_url(configured)
    from shared.database.embedded import start_embedded

    server = start_embedded(settings.data_dir / "pg")
    return await ensure_database(server.url, EMBEDDED_DATABASE)
