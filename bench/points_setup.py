"""What the points benchmarks share: a database to run on, migrated, and seeded partners and members.

The database is a fresh one on DATABASE_URL's server, or on an embedded server of the benchmarks'
own (under the data dir, test settings: no fsync) that is stopped afterwards. Seeding goes through
the service layer in bulk, so the rows look exactly like production ones.
"""

from __future__ import annotations

import asyncio
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

os.environ.setdefault("ABG_POINTS_MEMBER_CHECK", "trust")
os.environ.setdefault("ABG_LOG_LEVEL", "WARNING")


@contextlib.asynccontextmanager
async def bench_database(name: str) -> AsyncIterator[str]:
    """A migrated, empty database for one benchmark run; dropped afterwards."""
    embedded = None
    server = os.environ.get("DATABASE_URL")
    if server:
        server = to_async_url(server)
    else:
        from shared.database.embedded import start_embedded

        embedded = start_embedded(get_settings().data_dir / "pg-bench-points", for_tests=True)
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
        await upgrade_async(get_service("points").migrations, url)
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


async def seed_members(db, partner_id: uuid.UUID, count: int, points_each: int) -> list[uuid.UUID]:  # type: ignore[no-untyped-def]
    """`count` members with `points_each` available points, through bulk purchases."""
    from shared.timeutil import utcnow
    from services.points.directory import TrustingDirectory
    from services.points.earning.rules import PurchaseInput
    from services.points.earning.service import record_purchases
    from shared.auth import Principal, PrincipalKind

    members = [uuid.uuid4() for _ in range(count)]
    now = utcnow()
    for start in range(0, count, 1000):
        chunk = members[start : start + 1000]
        items = [PurchaseInput(partner_id, m, f"seed-{m}", points_each * 100, "CNY", now) for m in chunk]
        results = await record_purchases(db, Principal(PrincipalKind.SERVICE, "bench"), items, directory=TrustingDirectory())
        failed = [r for r in results if isinstance(r, Exception)]
        assert not failed, failed[:3]
    return members


def run(main) -> None:  # type: ignore[no-untyped-def]
    """On uvloop, as the services run under uvicorn."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main())
    else:
        uvloop.run(main())
