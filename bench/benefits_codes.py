"""Code pools: reservation throughput (reserve + issue pairs per second, p50/p99) on one hot benefit
and spread over many, and the upload rate of 100,000 codes through the service layer and through
the HTTP bulk path (a real uvicorn server on localhost, the body streamed).

Each reserve and each issue is one transaction as a redemption would run them: the idempotency
claim, the row locks (`FOR UPDATE SKIP LOCKED` on the pool), the state changes and the answer.
The hot run is repeated with a low-stock threshold set, which serialises the end of each
reservation on the benefit's row (see codes/lowstock.py) — its cost is the difference.

    .venv/bin/python bench/benefits_codes.py [--seconds 5] [--callers 8] [--codes 100000] [--benefits 100]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("ABG_BENEFITS_JOB_INTERVAL_SECONDS", "0")

import httpx  # noqa: E402
from sqlalchemy import text  # noqa: E402

from services.benefits.codes import ingest  # noqa: E402
from services.benefits.codes import service as codes_service  # noqa: E402
from services.benefits.errors import OutOfStock  # noqa: E402
from services.benefits.reservations import service as reservations  # noqa: E402
from shared.auth.principals import Principal, PrincipalKind  # noqa: E402
from shared.auth.tokens import mint_token  # noqa: E402
from shared.database import Database  # noqa: E402
from bench_db import bench_database  # noqa: E402
from shared.settings import reset_settings_cache  # noqa: E402
from shared.timeutil import utcnow  # noqa: E402

SERVICE = Principal(PrincipalKind.SERVICE, "redemptions")


async def new_benefit(db: Database, *, threshold: int | None = None) -> tuple[uuid.UUID, uuid.UUID]:
    partner_id, benefit_id, now = uuid.uuid4(), uuid.uuid4(), utcnow()
    async with db.transaction() as session:
        await session.exec(text(  # type: ignore[call-overload]
            """INSERT INTO benefits.partners (id, name, brand, status, roles, currency, created_at, updated_at)
               VALUES (:p, 'Bench', 'Bench', 'ACTIVE', '{REDEMPTION}', 'CNY', :now, :now)"""), params={"p": partner_id, "now": now})
        await session.exec(text(  # type: ignore[call-overload]
            """INSERT INTO benefits.benefits (id, partner_id, kind, delivery, status, title, points_price, settlement_minor, currency,
                   validity_days, low_stock_threshold, created_at, updated_at)
               VALUES (:b, :p, 'VOUCHER', 'CODE', 'ACTIVE', 'Bench voucher', 100, 500, 'CNY', 30, :t, :now, :now)"""),
            params={"b": benefit_id, "p": partner_id, "t": threshold, "now": now})
    return partner_id, benefit_id


async def lines(count: int, stem: str, per_chunk: int = 4096) -> AsyncIterator[bytes]:
    for start in range(0, count, per_chunk):
        yield "".join(f"{stem}-{i:08d}\n" for i in range(start, min(start + per_chunk, count))).encode()


async def fill(db: Database, partner_id: uuid.UUID, benefit_id: uuid.UUID, count: int) -> float:
    started = time.perf_counter()
    answer = await ingest.upload_stream(db, Principal(PrincipalKind.PARTNER, str(partner_id)), benefit_id=benefit_id,
                                        chunks=lines(count, benefit_id.hex[:10].upper()), idempotency_key=f"fill-{benefit_id}")
    assert answer.accepted == count, answer
    return time.perf_counter() - started


def pct(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))] * 1000


async def reservation_run(db: Database, benefits: list[uuid.UUID], seconds: float, callers: int, label: str) -> None:
    latencies: list[float] = []
    out_of_stock = 0
    counter = iter(range(10**9))

    async def caller(seed: int) -> None:
        nonlocal out_of_stock
        while time.perf_counter() < stop:
            n = next(counter)
            benefit = benefits[(n * 7919 + seed) % len(benefits)]
            key = f"{label}-{n}"
            started = time.perf_counter()
            try:
                await reservations.reserve(db, SERVICE, benefit_id=benefit, member_id=uuid.uuid4(), key=key)
            except OutOfStock:
                out_of_stock += 1
                continue
            await reservations.issue(db, SERVICE, key=key)
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    stop = started + seconds
    await asyncio.gather(*(caller(i) for i in range(callers)))
    elapsed = time.perf_counter() - started
    print(f"  {label:<28} {len(latencies) / elapsed:8,.0f} pairs/s   p50 {pct(latencies, 0.5):6.1f} ms   "
          f"p99 {pct(latencies, 0.99):6.1f} ms   ({len(latencies)} pairs, {out_of_stock} out of stock)", flush=True)


async def http_upload(url: str, benefit_id: uuid.UUID, partner_id: uuid.UUID, count: int) -> float:
    """Through a real uvicorn server (in this process, on a free localhost port)."""
    import uvicorn

    os.environ["DATABASE_URL"] = url
    reset_settings_cache()
    from services.benefits.app import app

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    try:
        headers = {"authorization": f"Bearer {mint_token('partner', str(partner_id))}", "content-type": "text/plain",
                   "idempotency-key": "http-bulk"}
        async with httpx.AsyncClient(timeout=600) as client:
            started = time.perf_counter()
            response = await client.post(f"http://127.0.0.1:{port}/benefits/{benefit_id}/codes", headers=headers,
                                         content=lines(count, "HTTP" + benefit_id.hex[:6].upper()))
            elapsed = time.perf_counter() - started
        assert response.status_code == 200 and response.json()["accepted"] == count, response.text[:300]
        return elapsed
    finally:
        server.should_exit = True
        await serving


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per reservation run")
    parser.add_argument("--callers", type=int, default=8)
    parser.add_argument("--codes", type=int, default=100_000, help="codes per upload")
    parser.add_argument("--benefits", type=int, default=100, help="benefits of the spread run")
    args = parser.parse_args()

    async with bench_database("bench_codes", "benefits") as url:
        db = Database(url, pool_size=args.callers + 2, max_overflow=0)
        print(f"\ncode upload, {args.codes:,} codes, one transaction, batches of 1,000:", flush=True)
        partner, hot = await new_benefit(db)
        elapsed = await fill(db, partner, hot, args.codes)
        print(f"  service layer (stream)       {args.codes / elapsed:8,.0f} codes/s   ({elapsed:.1f} s)", flush=True)
        http_partner, http_benefit = await new_benefit(db)
        elapsed = await http_upload(url, http_benefit, http_partner, args.codes)
        print(f"  HTTP bulk path (uvicorn)     {args.codes / elapsed:8,.0f} codes/s   ({elapsed:.1f} s)", flush=True)

        print(f"\nreservation throughput, {args.callers} concurrent callers, {args.seconds:.0f} s each:", flush=True)
        await reservation_run(db, [hot], args.seconds, args.callers, "hot benefit")
        await codes_service.set_low_stock_threshold(db, Principal(PrincipalKind.PARTNER, str(partner)), benefit_id=hot,
                                                    threshold=10)
        await reservation_run(db, [hot], args.seconds, args.callers, "hot benefit, threshold set")
        spread = []
        for _ in range(args.benefits):
            p, b = await new_benefit(db)
            await fill(db, p, b, 500)
            spread.append(b)
        await reservation_run(db, spread, args.seconds, args.callers, f"spread over {args.benefits} benefits")
        await db.dispose()


if __name__ == "__main__":
    try:
        import uvloop
    except ImportError:
        asyncio.run(main())
    else:
        uvloop.run(main())
