"""A database for one benchmark run: a fresh one on DATABASE_URL's server, or on an embedded server of
the benchmarks' own (under the data dir, test settings: no fsync) that is stopped afterwards; the
services named are migrated into it, and it is dropped at the end."""

from __future__ import annotations

import contextlib
import os
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncpg  # noqa: E402

from abg.services import get_service  # noqa: E402
from shared.database.migrations import upgrade_async  # noqa: E402
from shared.database.urls import redact, to_async_url, to_libpq_url, with_database  # noqa: E402
from shared.settings import get_settings  # noqa: E402


@contextlib.asynccontextmanager
async def bench_database(name: str, *services: str) -> AsyncIterator[str]:
    """A migrated, empty database named `name_<random>` with `services`' schemas; dropped afterwards."""
    embedded = None
    server = os.environ.get("DATABASE_URL")
    if server:
        server = to_async_url(server)
    else:
        from shared.database.embedded import start_embedded

        embedded = start_embedded(get_settings().data_dir / f"pg-bench-{services[0]}", for_tests=True)
        server = embedded.url
    database = f"{name}_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(to_libpq_url(server))
    try:
        await admin.execute(f'CREATE DATABASE "{database}"')
    finally:
        await admin.close()
    url = with_database(server, database)
    print(f"database: {redact(url)}", flush=True)
    try:
        for service in services:
            await upgrade_async(get_service(service).migrations, url)
        yield url
    finally:
        from shared.database import dispose_databases

        await dispose_databases()
        admin = await asyncpg.connect(to_libpq_url(server))
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        finally:
            await admin.close()
        if embedded is not None:
            embedded.stop()
