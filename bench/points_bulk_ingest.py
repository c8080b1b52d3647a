"""Bulk purchase ingestion: purchases per second through `recordPurchases` in the service layer.

Batches of up to 1,000 purchases (the API's limit), each one database transaction: validation,
earning rules (base rate, tier, birthday, campaigns), lots, ledger transactions with their hash
chain, balances and one PurchaseRecorded event per purchase in the outbox. Several callers send
batches at once, as partners' ingestion jobs would; members recur across batches (their rows are
locked per batch, in id order).

    .venv/bin/python bench/points_bulk_ingest.py [--seconds 10] [--batch 1000] [--callers 2] [--members 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import random
import time
import uuid
from datetime import timedelta

from points_setup import bench_database, run

from services.points.audit.service import ledger_check
from services.points.directory import TrustingDirectory
from services.points.earning.rules import PurchaseInput
from services.points.earning.service import create_campaign, record_purchases
from services.points.partners.service import set_programme
from shared.auth import OPERATOR as OPERATOR_ROLE
from shared.auth import Principal, PrincipalKind
from shared.database import Database
from shared.errors import DomainError
from shared.timeutil import utcnow

CALLER = Principal(PrincipalKind.SERVICE, "points")  # may record for any partner
OPERATOR = Principal(PrincipalKind.STAFF, "bench", frozenset({OPERATOR_ROLE}))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--callers", type=int, default=2)
    parser.add_argument("--members", type=int, default=20_000)
    args = parser.parse_args()

    async with bench_database("bench_bulk_ingest") as url:
        db = Database(url, pool_size=args.callers + 2, max_overflow=0)
        partners = [
            await set_programme(db, OPERATOR, partner_id=uuid.uuid4(), currency="CNY", return_window_days=7, cost_per_point_minor=1)
            for _ in range(5)
        ]
        now = utcnow()
        await create_campaign(db, OPERATOR, name="bench", multiplier_bps=15_000, starts_at=now - timedelta(days=1),
                              ends_at=now + timedelta(days=1), partner_id=partners[0].id, category=None)
        members = [uuid.uuid4() for _ in range(args.members)]
        counter = itertools.count()
        directory = TrustingDirectory()
        recorded = failed = 0
        batches: list[float] = []

        async def caller(seed: int) -> None:
            nonlocal recorded, failed
            chooser = random.Random(seed)
            while time.perf_counter() < stop:
                items = [
                    PurchaseInput(
                        partner_id=chooser.choice(partners).id, member_id=chooser.choice(members), external_id=f"o-{next(counter)}",
                        amount_minor=chooser.randint(100, 100_000), currency="CNY", occurred_at=utcnow(),
                    )
                    for _ in range(args.batch)
                ]
                started = time.perf_counter()
                results = await record_purchases(db, CALLER, items, directory=directory)
                batches.append(time.perf_counter() - started)
                failed += sum(isinstance(r, DomainError) for r in results)
                recorded += sum(not isinstance(r, DomainError) for r in results)

        # Warm-up batch (opens accounts for some members, fills caches), not counted.
        stop = time.perf_counter() + 0.1
        await caller(-1)
        recorded = failed = 0
        batches.clear()
        started = time.perf_counter()
        stop = started + args.seconds
        await asyncio.gather(*(caller(i) for i in range(args.callers)))
        elapsed = time.perf_counter() - started
        check = await ledger_check(db, OPERATOR)
        await db.dispose()

    batches.sort()
    print(f"\nbulk purchase ingestion: {recorded} purchases in {elapsed:.1f} s = {recorded / elapsed:,.0f} purchases/s")
    print(f"  {args.callers} concurrent callers, batches of {args.batch}, {args.members} members, {failed} refused")
    print(f"  batch latency: median {batches[len(batches) // 2] * 1000:.0f} ms, max {batches[-1] * 1000:.0f} ms")
    print(f"  ledgerCheck afterwards: {'ok' if check.ok else check.problems[:3]}")


if __name__ == "__main__":
    run(main)
