"""The catalogue read on a catalogue of 10,000 benefits: requests per second and latency p50/p95/p99.

Two reads, as a member app makes them:
  catalogue    `benefits(first: 20, filter: {redeemableNow: true})`, a member's first page;
  eligibility  one member's eligible benefits (`Member.eligibleBenefits(first: 20)`): every ACTIVE
               benefit decided for that member and ranked, the first page of it.

By default both go through the SERVICE LAYER (the functions the resolvers call) on a database of
its own, seeded here: 10,000 benefits of 8 partners (a tenth DRAFT, a tenth PAUSED, every kind and
delivery, code pools of 2 for three in four CODE benefits, budgets on a tenth and on each partner)
and some redemptions of the member. The SQL plans of the catalogue page and of the member's
reservations are printed, to show the indexes in use.

With --gateway URL the same two reads go as GraphQL to that gateway instead (nothing is seeded:
point it at a running graph with data, and pass --token and --member-id of a member there).

    .venv/bin/python bench/benefits_catalogue.py [--benefits 10000] [--seconds 5] [--concurrency 8]
    .venv/bin/python bench/benefits_catalogue.py --gateway http://localhost:4000/graphql --token T --member-id ID

Bounded: about 40 s with the defaults (seeding included).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa  # noqa: E402

from services.benefits.access import CatalogueScope  # noqa: E402
from services.benefits.catalogue import eligibility, listing, ranked, rules, service, store  # noqa: E402
from services.benefits.catalogue.inputs import CatalogueFilter, Sort  # noqa: E402
from services.benefits.catalogue.rules import MemberFacts  # noqa: E402
from shared.auth.principals import Principal, PrincipalKind  # noqa: E402
from shared.database import Database, get_database  # noqa: E402
from bench_db import bench_database  # noqa: E402
from shared.pagination import PageRequest  # noqa: E402
from shared.timeutil import utcnow  # noqa: E402

CATALOGUE_QUERY = """query Catalogue { benefits(first: 20, filter: {redeemableNow: true}) {
  edges { cursor node { id title pointsPrice kind categories redeemableNow partner { id } } } pageInfo { hasNextPage } } }"""
ELIGIBILITY_QUERY = """query Eligible($id: ID!) { member(id: $id) { id tier eligibleBenefits(first: 20) {
  edges { node { redeemable reasons interestMatches benefit { id title pointsPrice } } } pageInfo { hasNextPage } } } }"""

Call = Callable[[], Awaitable[object]]


async def seed(db: Database, count: int, member_id: uuid.UUID) -> None:
    started = time.perf_counter()
    partners = [uuid.uuid4() for _ in range(8)]
    now = utcnow()
    period = rules.month_start(now)
    async with db.transaction() as session:
        await session.exec(sa.insert(store.partners_t).values([  # type: ignore[call-overload]
            {"id": p, "name": f"Partner {i}", "brand": f"Brand {i}", "status": "ACTIVE", "roles": ["EARNING", "REDEMPTION"],
             "currency": "CNY", "created_at": now, "updated_at": now} for i, p in enumerate(partners)
        ]))
        await store.generate(session, partners, count, now=now, codes=2, prefix="Benefit")
        await session.exec(sa.text(  # type: ignore[call-overload]
            """INSERT INTO benefits.budgets (id, scope, partner_id, benefit_id, period, limit_minor, currency, thresholds_percent, hard_stop, updated_at)
               SELECT gen_random_uuid(), 'BENEFIT', partner_id, id, 'MONTH', 1000000, 'CNY', CAST('{80,100}' AS integer[]), true, now()
               FROM benefits.benefits WHERE abs(hashtext(id::text)) % 10 = 0
               UNION ALL
               SELECT gen_random_uuid(), 'PARTNER', id, NULL, 'MONTH', 100000000, 'CNY', CAST('{80,100}' AS integer[]), true, now() FROM benefits.partners"""
        ))
        await session.exec(sa.text(  # type: ignore[call-overload]
            "INSERT INTO benefits.budget_periods (budget_id, period_start, reserved_minor, spent_minor) SELECT id, :p, 0, 10000 FROM benefits.budgets"
        ), params={"p": period})
        await session.exec(sa.text(  # type: ignore[call-overload]
            """INSERT INTO benefits.reservations (id, key, benefit_id, member_id, state, settlement_minor, period_start, expires_at, created_at, created_by)
               SELECT gen_random_uuid(), 'bench-' || id, id, :m, 'ISSUED', settlement_minor, :p, now(), now() - interval '2 days', 'bench'
               FROM benefits.benefits WHERE status = 'ACTIVE' ORDER BY id LIMIT 40"""
        ), params={"m": member_id, "p": period})
    async with db.engine.begin() as connection:
        await connection.exec_driver_sql("ANALYZE")
    print(f"seeded {count} benefits of {len(partners)} partners in {time.perf_counter() - started:.1f} s", flush=True)


async def explain(db: Database, member_id: uuid.UUID) -> None:
    now = utcnow()
    page = PageRequest(20, None, cursor_types=listing.cursor_types(Sort.POINTS_ASC))
    query = listing.list_query(CatalogueScope.ACTIVE, None, listing.checked(CatalogueFilter(redeemable_now=True)), Sort.POINTS_ASC, page)
    usage = store.usage_statement(member_id, day=rules.day_start(now), month=rules.month_start(now), year=rules.year_start(now))
    interested = ranked.ranked_statement(("video", "coffee"), None, None, 42)
    the_rest = ranked.ranked_statement(("video", "coffee"), None, (0,), 42)
    async with db.engine.connect() as connection:
        for title, statement, params in (
            ("catalogue page (redeemableNow, POINTS_ASC)", store.page_statement(query), {"now": now, "period_start": rules.month_start(now)}),
            ("a member's reservations", usage, {}),
            ("eligibility: the first batch of benefits matching the member's interests", interested, {"period_start": rules.month_start(now)}),
            ("eligibility: the first batch of the others", the_rest, {"period_start": rules.month_start(now)}),
        ):
            plan = await store.explain(connection, statement, params)
            print(f"\nEXPLAIN {title}:\n" + "\n".join("  " + line for line in plan.splitlines()), flush=True)


async def measure(name: str, call: Call, *, seconds: float, concurrency: int, warmup: float) -> None:
    latencies: list[float] = []

    async def worker(until: float, record: bool) -> None:
        while time.perf_counter() < until:
            started = time.perf_counter()
            await call()
            if record:
                latencies.append(time.perf_counter() - started)

    await asyncio.gather(*(worker(time.perf_counter() + warmup, False) for _ in range(concurrency)))
    started = time.perf_counter()
    await asyncio.gather(*(worker(started + seconds, True) for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    cuts = statistics.quantiles(latencies, n=100)
    print(
        f"{name:<12} {len(latencies) / elapsed:>9.1f} req/s   p50 {cuts[49] * 1000:7.2f} ms   p95 {cuts[94] * 1000:7.2f} ms"
        f"   p99 {cuts[98] * 1000:7.2f} ms   ({len(latencies)} requests, concurrency {concurrency})",
        flush=True,
    )


async def service_layer(args: argparse.Namespace) -> None:
    async with bench_database("bench_benefits", "benefits") as url:
        db = get_database(url)
        member_id = uuid.uuid4()
        await seed(db, args.benefits, member_id)
        await explain(db, member_id)
        member = Principal(PrincipalKind.MEMBER, str(member_id))
        facts = MemberFacts(member_id, "SILVER", "ACTIVE", utcnow().month, ("video", "coffee"))
        checked = await service.list_benefits(db, member, CatalogueFilter(redeemable_now=True), Sort.POINTS_ASC, first=20)
        ranked = await eligibility.eligible_benefits(db, member, facts, first=20)
        assert len(checked.rows) == 20 and all(b.redeemable_now for b in checked.rows)
        assert len(ranked.rows) == 20
        print(f"\nthrough the service layer ({args.benefits} benefits; {args.seconds} s each after {args.warmup} s warm-up):")
        await measure("catalogue", lambda: service.list_benefits(db, member, CatalogueFilter(redeemable_now=True), Sort.POINTS_ASC, first=20),
                      seconds=args.seconds, concurrency=args.concurrency, warmup=args.warmup)
        await measure("eligibility", lambda: eligibility.eligible_benefits(db, member, facts, first=20),
                      seconds=args.seconds, concurrency=args.concurrency, warmup=args.warmup)


async def through_gateway(args: argparse.Namespace) -> None:
    import httpx

    headers = {"authorization": f"Bearer {args.token}"}
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=args.concurrency * 2)) as client:

        def call(query: str, variables: dict[str, object]) -> Call:
            async def post() -> object:
                response = await client.post(args.gateway, json={"query": query, "variables": variables}, headers=headers)
                body = response.json()
                if response.status_code != 200 or body.get("errors"):
                    raise RuntimeError(f"{response.status_code}: {body.get('errors')}")
                return body

            return post

        catalogue, eligible = call(CATALOGUE_QUERY, {}), call(ELIGIBILITY_QUERY, {"id": args.member_id})
        await catalogue()
        await eligible()
        print(f"through the gateway at {args.gateway} ({args.seconds} s each after {args.warmup} s warm-up):")
        await measure("catalogue", catalogue, seconds=args.seconds, concurrency=args.concurrency, warmup=args.warmup)
        await measure("eligibility", eligible, seconds=args.seconds, concurrency=args.concurrency, warmup=args.warmup)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--benefits", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--gateway", help="a gateway's GraphQL URL: measure there instead of the service layer")
    parser.add_argument("--token", help="with --gateway: a member's bearer token")
    parser.add_argument("--member-id", help="with --gateway: that member's id")
    args = parser.parse_args()
    if args.gateway and not (args.token and args.member_id):
        parser.error("--gateway needs --token and --member-id")
    work = through_gateway(args) if args.gateway else service_layer(args)
    try:
        import uvloop
    except ImportError:
        asyncio.run(work)
    else:
        uvloop.run(work)


if __name__ == "__main__":
    main()
