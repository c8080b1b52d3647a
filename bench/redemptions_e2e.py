"""Redemptions per second end to end through the gateway, with every service running: voucher
benefits redeemed by many members, over many benefits and over one hot benefit; latency
p50/p95/p99, where a redemption's time goes (per service), and, in the same run, the floor the saga
is built on: points' hold + capture alone, called over HTTP on the points process.

The whole graph is started as `abg run --no-seed` starts it (embedded PostgreSQL, every subgraph in
its own uvicorn process with the shipped settings, log level included, and the gateway over the
composed supergraph), in a throwaway data directory. Once it is up, this script seeds the database
through each service's own layer: members registered through members' service layer, their points
earned through points' earning service layer (a TrustingDirectory), partners and voucher benefits
with generated code pools through the benefits schema as an operator. It mints one token per member
with the started processes' settings: every request goes as the next member in turn, each with a
fresh idempotency key, so no two concurrent requests share a member (one member's requests would
serialise on its lock, and one token would let the gateway deduplicate).

Workloads, each from `--concurrency` clients for `--seconds` after a warm-up, in `--rounds` rounds
that alternate their order (a shared machine's load from elsewhere then falls on each):
  many benefits  `redeem` of a random benefit of `--benefits` (each with its own code pool);
  hot benefit    `redeem` of one benefit with a large pool (every reservation on one pool);
  floor          `holdPoints` then `captureHold` (settlement to the benefit's partner) straight to
                 the points process as the redemptions service (its token), the same points.
Where the time goes: the saga's timeline records how long each step's call took (detail.ms):
HOLD and CAPTURE are points, RESERVE and DELIVER benefits; the rest of the saga (created_at to
completed_at minus the calls) is redemptions recording each step; the rest of the request (its
latency minus the saga) is the gateway, admission (members' and benefits' look-ups, the admit
transaction) and the answer. CPU per process (shares of one core) is printed too: on a machine with
few cores, which process was the limit.

    .venv/bin/python bench/redemptions_e2e.py [--seconds 5] [--rounds 3] [--concurrency 16] [--members 500]
        [--benefits 50] [--warmup 1] [--keep-log PATH]

Bounded: about a minute and a half with the defaults (start-up and seeding included).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import random
import shutil
import statistics
import sys
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import httpx  # noqa: E402
import psutil  # noqa: E402

from benefits_catalogue_gateway import CpuMeter, benchmarked_graph  # noqa: E402
from shared.auth.principals import Principal, PrincipalKind  # noqa: E402
from shared.auth.tokens import mint_token  # noqa: E402
from shared.settings import settings_of_environment  # noqa: E402

POINTS_PRICE = 100
SETTLEMENT = 500
CODES_PER_BENEFIT = 300
HOT_CODES = 10_000
OPERATOR = Principal(PrincipalKind.STAFF, "bench-ops", frozenset({"operator"}))
SIGNUP = Principal(PrincipalKind.SERVICE, "members")  # members registering through its own layer

REDEEM = """mutation Redeem($benefit: ID!, $key: String!) { redeem(benefitId: $benefit, idempotencyKey: $key) {
  id status failureReason } }"""
HOLD = """mutation Hold($input: HoldInput!) { holdPoints(input: $input) { id status } }"""
CAPTURE = """mutation Capture($input: CaptureInput!) { captureHold(input: $input) { transactionId hold { status } } }"""

_REGISTER = """mutation($input: RegisterPartnerInput!) { registerPartner(input: $input) { id } }"""
_ACTIVATE = """mutation($id: ID!) { activatePartner(partnerId: $id) { id } }"""
_CREATE = """mutation($input: CreateBenefitInput!) { createBenefit(input: $input) { id } }"""
_GENERATE = """mutation($id: ID!, $n: Int!, $k: String!) { generateCodes(benefitId: $id, count: $n, idempotencyKey: $k) { accepted } }"""
_STATUS = """mutation($id: ID!) { setBenefitStatus(id: $id, status: ACTIVE) { id } }"""


@dataclass(frozen=True)
class World:
    members: list[tuple[str, str]]  # (member id, member token)
    benefits: list[str]
    hot: str
    beneficiary: str  # a redemption partner (the floor's captures settle to it)
    service_token: str  # the redemptions service's, for the floor
    url: str  # the database


@dataclass
class Result:
    """One workload over its rounds: requests per second of each round, every latency (s), outcomes,
    cores used per process (mean over rounds) and the redemptions made."""

    rps: list[float] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)
    cpu: list[dict[str, float]] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)

    def percentile(self, p: int) -> float:
        return statistics.quantiles(self.latencies, n=100)[p - 1] * 1000

    @property
    def median_rps(self) -> float:
        return statistics.median(self.rps)

    @property
    def mean_ms(self) -> float:
        return statistics.fmean(self.latencies) * 1000

    @property
    def cores(self) -> dict[str, float]:
        names = {n for round_ in self.cpu for n in round_}
        found = {n: statistics.fmean(round_.get(n, 0.0) for round_ in self.cpu) for n in names}
        return dict(sorted(((n, v) for n, v in found.items() if v >= 0.01), key=lambda item: -item[1]))


# --- seeding ------------------------------------------------------------------------------------


async def seed(env: dict[str, str], args: argparse.Namespace) -> World:
    from shared.database import dispose_databases, get_database
    from shared.database.embedded import EmbeddedPostgres
    from shared.database.resolve import EMBEDDED_DATABASE
    from shared.database.urls import with_database
    from shared.federation.context import Context
    from shared.settings import reset_settings_cache
    from shared.timeutil import utcnow

    from services.benefits.schema import schema as benefits_schema
    from services.members.profiles import service as profiles
    from services.points.access import SYSTEM as POINTS_SYSTEM
    from services.points.directory import TrustingDirectory
    from services.points.earning.rules import PurchaseInput
    from services.points.earning.service import record_purchases
    from services.points.partners.service import set_programme

    from services.points.config import reset_points_settings_cache

    # This process reads the started processes' settings (data dir, keys): what it seeds, they can read.
    # The seed's purchases tell members nothing (no growth events): members would still be working
    # through 500 of them while the first workload is measured.
    # One seed purchase per member gives them points for the whole run: above a partner's default caps.
    os.environ.update({k: v for k, v in env.items() if k.startswith("ABG_")} | {
        "ABG_POINTS_PURCHASE_EVENT_SUBSCRIBERS": "", "ABG_POINTS_MAX_PURCHASE_MINOR": str(10**12),
        "ABG_POINTS_MAX_POINTS_PER_MEMBER_DAY": str(10**12)})
    reset_settings_cache()
    reset_points_settings_cache()
    url = with_database(EmbeddedPostgres(pgdata=(Path(env["ABG_DATA_DIR"]) / "pg").resolve(), system_user=None).url, EMBEDDED_DATABASE)
    db = get_database(url)
    settings = settings_of_environment(env)

    async def benefits(query: str, **variables: Any) -> dict[str, Any]:
        result = await benefits_schema.execute(query, variable_values=variables,
                                               context_value=Context(request=None, principal=OPERATOR, db=db))
        assert not result.errors, [e.formatted for e in result.errors]
        return result.data  # type: ignore[return-value]

    try:
        started = time.perf_counter()
        gate = asyncio.Semaphore(8)

        async def register(i: int) -> uuid.UUID:
            async with gate:
                view = await profiles.register_member(db, SIGNUP, phone=f"+86137{i:08d}", display_name=f"Bench Member {i}",
                                                      email=None, birthday=None)
                return view.id

        members = list(await asyncio.gather(*(register(i) for i in range(args.members))))
        earning = (await set_programme(db, POINTS_SYSTEM, partner_id=uuid.uuid4(), currency="CNY", return_window_days=0,
                                       cost_per_point_minor=1)).id
        now = utcnow()
        for start in range(0, len(members), 500):  # enough points for every redemption and floor pair the run could make
            items = [PurchaseInput(earning, m, f"seed-{m}", POINTS_PRICE * 5_000 * 100, "CNY", now) for m in members[start:start + 500]]
            results = await record_purchases(db, Principal(PrincipalKind.SERVICE, "points"), items, directory=TrustingDirectory())
            assert not [r for r in results if isinstance(r, Exception)], results[:3]
        print(f"registered {len(members)} members with points in {time.perf_counter() - started:.1f} s", flush=True)

        started = time.perf_counter()
        partners = []
        for i in range(5):
            name = f"Bench Partner {i}"
            found = await benefits(_REGISTER, input={"name": name, "brand": name, "roles": ["EARNING", "REDEMPTION"], "currency": "CNY"})
            partner = found["registerPartner"]["id"]
            await benefits(_ACTIVATE, id=partner)
            await set_programme(db, POINTS_SYSTEM, partner_id=uuid.UUID(partner), currency="CNY", name=name, earn_points=1,
                                earn_per_minor=100, return_window_days=0, cost_per_point_minor=1)
            partners.append(partner)

        async def voucher(partner: str, codes: int, title: str) -> str:
            benefit = (await benefits(_CREATE, input={
                "kind": "VOUCHER", "title": title, "pointsPrice": POINTS_PRICE, "partnerId": partner, "delivery": "CODE",
                "settlementPrice": {"amountMinor": SETTLEMENT, "currency": "CNY"},
                "faceValue": {"amountMinor": SETTLEMENT * 2, "currency": "CNY"}, "validityDays": 30,
            }))["createBenefit"]["id"]
            await benefits(_GENERATE, id=benefit, n=codes, k=f"gen-{benefit}")
            await benefits(_STATUS, id=benefit)
            return benefit

        many = [await voucher(partners[i % len(partners)], CODES_PER_BENEFIT, f"Voucher {i}") for i in range(args.benefits)]
        hot = await voucher(partners[0], HOT_CODES, "The hot voucher")
        print(f"seeded {len(partners)} partners, {len(many)} vouchers of {CODES_PER_BENEFIT} codes and a hot one of {HOT_CODES} "
              f"in {time.perf_counter() - started:.1f} s", flush=True)
        async with db.engine.begin() as connection:
            await connection.exec_driver_sql("ANALYZE")
    finally:
        await dispose_databases()
    tokens = [(str(m), mint_token("member", str(m), ttl_seconds=3600, settings=settings)) for m in members]
    service = mint_token("service", "redemptions", ttl_seconds=3600, settings=settings)
    return World(tokens, many, hot, partners[0], service, url)


# --- measuring ----------------------------------------------------------------------------------

# One request as the given member: answers the outcome ("COMPLETED", "FAILED:<reason>", …) and the
# redemption's id, if any.
Call = Callable[[httpx.AsyncClient, tuple[str, str]], Awaitable[tuple[str, str | None]]]


def redeem_call(gateway: str, benefits: Callable[[], str]) -> Call:
    async def call(client: httpx.AsyncClient, member: tuple[str, str]) -> tuple[str, str | None]:
        response = await client.post(gateway, json={"query": REDEEM, "variables": {"benefit": benefits(), "key": uuid.uuid4().hex}},
                                     headers={"authorization": f"Bearer {member[1]}"})
        body = response.json()
        if body.get("errors"):
            return "ERROR:" + str(body["errors"][0].get("extensions", {}).get("code")), None
        found = body["data"]["redeem"]
        outcome = found["status"] + (f":{found['failureReason']}" if found["status"] == "FAILED" else "")
        return outcome, found["id"]

    return call


def floor_call(points: str, world: World) -> Call:
    headers = {"authorization": f"Bearer {world.service_token}"}

    async def call(client: httpx.AsyncClient, member: tuple[str, str]) -> tuple[str, str | None]:
        hold = (await client.post(points, headers=headers, json={"query": HOLD, "variables": {"input": {
            "memberId": member[0], "points": POINTS_PRICE, "ttlSeconds": 600, "reference": "bench-floor",
            "idempotencyKey": uuid.uuid4().hex}}})).json()
        if hold.get("errors"):
            return "ERROR:" + str(hold["errors"][0].get("extensions", {}).get("code")), None
        captured = (await client.post(points, headers=headers, json={"query": CAPTURE, "variables": {"input": {
            "holdId": hold["data"]["holdPoints"]["id"], "points": POINTS_PRICE, "idempotencyKey": uuid.uuid4().hex,
            "settlement": {"beneficiaryPartnerId": world.beneficiary, "valueMinor": SETTLEMENT, "currency": "CNY"}}}})).json()
        if captured.get("errors"):
            return "ERROR:" + str(captured["errors"][0].get("extensions", {}).get("code")), None
        return captured["data"]["captureHold"]["hold"]["status"], None

    return call


async def measure(call: Call, world: World, meter: CpuMeter, into: Result, *, concurrency: int, seconds: float, warmup: float) -> None:
    """One round of a workload, added to `into`."""
    latencies, outcomes, ids = into.latencies, into.outcomes, into.ids
    turns = itertools.cycle(random.sample(world.members, len(world.members)))  # the next member for each request
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:

        async def client_loop(until: float, record: bool) -> None:
            while time.perf_counter() < until:
                started = time.perf_counter()
                outcome, redemption = await call(client, next(turns))
                if record:
                    latencies.append(time.perf_counter() - started)
                    outcomes[outcome] += 1
                    if redemption:
                        ids.append(redemption)

        await asyncio.gather(*(client_loop(time.perf_counter() + warmup, False) for _ in range(concurrency)))
        before = len(latencies)
        meter.start()
        started = time.perf_counter()
        await asyncio.gather(*(client_loop(started + seconds, True) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
        into.cpu.append(meter.stop(elapsed))
    into.rps.append((len(latencies) - before) / elapsed)


SAGA_TIMES = """
WITH r AS (SELECT id, created_at, completed_at FROM redemptions.redemptions WHERE id = ANY($1::uuid[]) AND status = 'COMPLETED'),
     s AS (SELECT st.redemption_id, st.step, sum((st.detail->>'ms')::float) AS ms
           FROM redemptions.redemption_steps st JOIN r ON r.id = st.redemption_id WHERE st.detail ? 'ms' GROUP BY 1, 2)
SELECT (SELECT count(*) FROM r) AS n,
       (SELECT avg(extract(epoch FROM completed_at - created_at) * 1000) FROM r) AS span_ms,
       (SELECT json_object_agg(step, total) FROM (SELECT step, sum(ms) / (SELECT count(*) FROM r) AS total FROM s GROUP BY step) t) AS steps
"""


async def where_time_went(url: str, result: Result) -> str:
    """Per completed redemption, on average: the calls of each step, the saga's own recording, and the
    part of the request outside the saga (gateway, admission with its look-ups, answer)."""
    import asyncpg
    import orjson

    from shared.database.urls import to_libpq_url

    connection = await asyncpg.connect(to_libpq_url(url))
    try:
        row = await connection.fetchrow(SAGA_TIMES, [uuid.UUID(i) for i in result.ids])
    finally:
        await connection.close()
    if not row["n"]:
        return "  no completed redemption to read the timeline of"
    steps = orjson.loads(row["steps"]) if isinstance(row["steps"], str) else dict(row["steps"] or {})
    span = float(row["span_ms"])
    points = steps.get("HOLD", 0.0) + steps.get("CAPTURE", 0.0)
    benefits = steps.get("RESERVE", 0.0) + steps.get("DELIVER", 0.0)
    own = span - points - benefits
    outside = max(result.mean_ms - span, 0.0)
    total = outside + span
    parts = [("points (HOLD+CAPTURE calls)", points), ("benefits (RESERVE+DELIVER calls)", benefits),
             ("redemptions: saga records, COMPLETE", own),
             ("gateway + admission (members and benefits look-ups, admit) + answer", outside)]
    lines = [f"  mean request {result.mean_ms:.1f} ms, of which the saga (created -> completed) {span:.1f} ms; "
             f"per step: " + ", ".join(f"{k} {v:.1f}" for k, v in sorted(steps.items(), key=lambda kv: -kv[1]))]
    lines += [f"  {name:<72} {ms:7.1f} ms {ms / total:6.1%}" for name, ms in parts]
    return "\n".join(lines)


async def settle(url: str, timeout: float = 30.0) -> None:
    """Waits (up to `timeout`) until no service has events left to deliver: a workload does not
    measure the previous one's backlog."""
    import asyncpg

    from shared.database.urls import to_libpq_url

    connection = await asyncpg.connect(to_libpq_url(url))
    try:
        schemas = [r[0] for r in await connection.fetch(
            "SELECT table_schema FROM information_schema.tables WHERE table_name = 'outbox_deliveries'")]
        count = " + ".join(f"(SELECT count(*) FROM {s}.outbox_deliveries WHERE status = 'PENDING')" for s in schemas)
        started = time.perf_counter()
        while (pending := await connection.fetchval(f"SELECT {count}")) and time.perf_counter() - started < timeout:
            await asyncio.sleep(0.5)
    finally:
        await connection.close()
    waited = time.perf_counter() - started
    if waited > 1 or pending:
        print(f"(waited {waited:.0f} s for event deliveries; {pending} still pending)", flush=True)


CONSISTENCY = """
SELECT (SELECT json_object_agg(status, n) FROM (SELECT status, count(*) AS n FROM redemptions.redemptions GROUP BY 1) r) AS redemptions,
       (SELECT json_object_agg(status, n) FROM (SELECT status, count(*) AS n FROM points.holds WHERE reference LIKE 'redemption:%'
                                                GROUP BY 1) h) AS saga_holds,
       (SELECT json_object_agg(state, n) FROM (SELECT state, count(*) AS n FROM benefits.reservations GROUP BY 1) v) AS reservations,
       (SELECT json_object_agg(state, n) FROM (SELECT state, count(*) AS n FROM benefits.codes WHERE state <> 'AVAILABLE' GROUP BY 1) c)
         AS codes_taken
"""


async def consistency(url: str) -> None:
    """Once the run is over: every saga ended, each holding and reserving exactly what it completed."""
    import asyncpg

    from shared.database.urls import to_libpq_url

    await settle(url)
    connection = await asyncpg.connect(to_libpq_url(url))
    try:
        row = await connection.fetchrow(CONSISTENCY)
    finally:
        await connection.close()
    print("\nafter the run: " + "; ".join(f"{k} {v}" for k, v in row.items()), flush=True)


def line(name: str, r: Result) -> str:
    cpu = ", ".join(f"{n} {share:.2f}" for n, share in r.cores.items())
    outcomes = ", ".join(f"{k} {v}" for k, v in r.outcomes.most_common())
    rounds = " ".join(f"{v:.1f}" for v in r.rps)
    return (f"{name:<14} {r.median_rps:>6.1f} /s (rounds: {rounds})   p50 {r.percentile(50):6.0f} ms   p95 {r.percentile(95):6.0f} ms"
            f"   p99 {r.percentile(99):6.0f} ms   ({len(r.latencies)} requests)\n"
            f"{'':<14} outcomes: {outcomes}\n{'':<14} cores used: {cpu}")


async def bench(args: argparse.Namespace, ports: dict[str, int], world: World, meter: CpuMeter) -> None:
    gateway = f"http://127.0.0.1:{ports['gateway']}/graphql"
    points = f"http://127.0.0.1:{ports['points']}/graphql"
    chooser = random.Random(7)
    workloads: dict[str, Call] = {
        "many benefits": redeem_call(gateway, lambda: chooser.choice(world.benefits)),
        "hot benefit": redeem_call(gateway, lambda: world.hot),
        "floor": floor_call(points, world),
    }
    print(f"\n{len(world.members)} members (one token each), {len(world.benefits)} vouchers + 1 hot, {args.concurrency} concurrent "
          f"clients, {args.rounds} rounds of {args.seconds} s per workload (each after {args.warmup} s warm-up), "
          f"{psutil.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}", flush=True)
    # Rounds alternate the order of the workloads, so load from elsewhere on a shared machine falls
    # on each; throughput is the median over rounds, latency percentiles are over every request.
    results = {name: Result() for name in workloads}
    for round_ in range(args.rounds):
        for name in list(workloads) if round_ % 2 == 0 else list(reversed(list(workloads))):
            await settle(world.url)
            await measure(workloads[name], world, meter, results[name], concurrency=args.concurrency, seconds=args.seconds,
                          warmup=args.warmup)
    print(f"(load average now {os.getloadavg()[0]:.1f})\n", flush=True)
    for name, result in results.items():
        print(line(name, result), flush=True)
        if name != "floor":
            print(await where_time_went(world.url, result), flush=True)
    print("floor: holdPoints + captureHold straight to the points process (one pair = one redemption's points)", flush=True)
    await consistency(world.url)
    floor = results["floor"]
    print("\nsaga through the gateway / the floor (points hold+capture alone, same run; throughput: median over rounds of "
          "the ratio measured back to back):")
    for name in ("many benefits", "hot benefit"):
        r = results[name]
        ratio = statistics.median(a / b for a, b in zip(r.rps, floor.rps, strict=True))
        print(f"  {name:<14} throughput {ratio:5.0%}   p50 x{r.percentile(50) / floor.percentile(50):.2f}"
              f"   p95 x{r.percentile(95) / floor.percentile(95):.2f}   p99 x{r.percentile(99) / floor.percentile(99):.2f}", flush=True)


def log_findings(log_path: Path, limit: int = 8) -> None:
    """What the services logged above INFO while the run lasted (warnings a saga or a call raised)."""
    text = log_path.read_text(errors="replace") if log_path.exists() else ""
    notable = [ln for ln in text.splitlines() if any(f" {level} " in ln for level in ("WARNING", "ERROR", "CRITICAL"))]
    kinds = Counter(" ".join(ln.split()[2:4]) for ln in notable)  # level and logger
    print(f"\nlog: {len(notable)} warning/error lines: " + ", ".join(f"{k} x{n}" for k, n in kinds.most_common()), flush=True)
    firsts: dict[str, str] = {}
    for ln in notable:
        firsts.setdefault(" ".join(ln.split()[2:4]), ln[:300])
    for ln in list(firsts.values())[:limit]:
        print(f"  {ln}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per workload and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--benefits", type=int, default=50)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--keep-log", type=Path, default=None, help="copy the services' log here at the end")
    args = parser.parse_args()
    with benchmarked_graph(parser, args) as graph:
        world = asyncio.run(seed(graph.env, args))
        asyncio.run(bench(args, graph.ports, world, graph.cpu))
        log_findings(graph.data_dir / "run.log")
        if args.keep_log:
            shutil.copyfile(graph.data_dir / "run.log", args.keep_log)


if __name__ == "__main__":
    main()
