"""What the points benchmarks share: a database to run on, migrated, and seeded partners and members.

The database is a fresh one on DATABASE_URL's server, or on an embedded server of the benchmarks'
own (under the data dir, test settings: no fsync) that is stopped afterwards. Seeding goes through
the service layer in bulk, so the rows look exactly like production ones.
"""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))



os.environ.setdefault("ABG_POINTS_MEMBER_CHECK", "trust")


from bench_db import bench_database as _bench_database  # noqa: E402


def bench_database(name: str):  # type: ignore[no-untyped-def]
    """A migrated points database for one run (see bench_db)."""
    return _bench_database(name, "points")


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
        results = await record_purchases(db, Principal(PrincipalKind.SERVICE, "points"), items, directory=TrustingDirectory())
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
