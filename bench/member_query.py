"""A member's everyday read on the real graph, from many members at once: through the gateway and
straight to each subgraph it touches, with requests per second, latency p50/p95/p99, each process's
CPU (shares of one core), reads per second per core of each subgraph, and how many new PostgreSQL
connections the load opened (a pool that holds its connections opens none once warm).

The whole graph is started as `abg run --no-seed` starts it (embedded PostgreSQL, every subgraph
with the shipped settings, log level and worker count included, the gateway over the composed
supergraph) in a throwaway data directory. This script then registers `--members` members through
members' service layer, gives each points through points' earning layer, and mints one token per
member with the started processes' settings. Every request goes as the next member in turn (with
wrk, each connection starts at a random member), so concurrent requests carry different tokens and
the gateway cannot deduplicate them.

Reads:
  gateway   `me { displayName tier points { available pending } }` through the gateway: members'
            `me`, then points' `_entities` for the member's points;
  members   `me { displayName tier }` straight to the members subgraph (a member's token);
  points    `_entities` of the member's `points { available pending }` straight to points, as the
            gateway sends it (the member's token).

The load comes from wrk when it is on PATH (a C load generator, so it takes little of a small
machine's CPU from the graph), else from this Python process (which then shows in the CPU shares).

    .venv/bin/python bench/member_query.py [--members 200] [--concurrency 32] [--seconds 10] [--warmup 2]
        [--python-load]

Bounded: about a minute and a half with the defaults (start-up and seeding included).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Callable
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import httpx  # noqa: E402
import psutil  # noqa: E402

from benefits_catalogue_gateway import CpuMeter, Member, Result, benchmarked_graph, measure  # noqa: E402
from shared.auth.principals import Principal, PrincipalKind  # noqa: E402
from shared.auth.tokens import mint_token  # noqa: E402
from shared.settings import settings_of_environment  # noqa: E402

GATEWAY_QUERY = "query Me { me { displayName tier points { available pending } } }"
MEMBERS_QUERY = "query Me { me { displayName tier } }"
POINTS_QUERY = ("query Points($r: [_Any!]!) { _entities(representations: $r) { ... on Member { points { available pending } } } }")
Counter = Callable[[], int]
SIGNUP = Principal(PrincipalKind.SERVICE, "members")
EARNER = Principal(PrincipalKind.SERVICE, "points")

# wrk: each connection (one Lua state per thread) walks the members from a random start; responses
# that are not 200 or carry "errors" are counted and reported, so a broken read cannot pass as fast.
WRK_SCRIPT = r"""
local lines = {}
for line in io.lines(os.getenv("BENCH_REQUESTS")) do lines[#lines + 1] = line end
local path = os.getenv("BENCH_PATH")
local next_line, threads = 1, {}
errors = 0  -- a global: done() reads it from each thread with thread:get
function setup(thread) table.insert(threads, thread) end
function init(args) math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16)); next_line = math.random(#lines) end
function request()
  local line = lines[next_line]
  next_line = next_line % #lines + 1
  local space = line:find(" ", 1, true)
  return wrk.format("POST", path, {["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. line:sub(1, space - 1)}, line:sub(space + 1))
end
function response(status, headers, body)
  if status ~= 200 or body:find('"errors"', 1, true) then
    errors = errors + 1
    if errors == 1 then io.stderr:write(status .. " " .. body:sub(1, 300) .. "\n") end
  end
end
function done(summary, latency, requests)
  local failed = 0
  for _, thread in ipairs(threads) do failed = failed + (thread:get("errors") or 0) end
  io.write(string.format('BENCH {"requests": %d, "seconds": %f, "p50": %f, "p95": %f, "p99": %f, "failed": %d, "socket_errors": %d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e3, latency:percentile(95) / 1e3,
    latency:percentile(99) / 1e3, failed, summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout + summary.errors.status))
end
"""


@dataclass(frozen=True)
class Read:
    name: str
    url: str
    bodies: list[tuple[str, dict[str, Any]]]  # (token, body) per member

    def check(self, data: dict[str, Any]) -> bool:
        found = data.get("me") or (data.get("_entities") or [None])[0]
        return bool(found) and ("displayName" in found or "points" in found)


async def seed(env: dict[str, str], count: int) -> tuple[list[Member], str]:
    """Members with points; answers them with their tokens, and the database URL."""
    from shared.database import dispose_databases, get_database
    from shared.database.embedded import EmbeddedPostgres
    from shared.database.resolve import EMBEDDED_DATABASE
    from shared.database.urls import with_database
    from shared.settings import reset_settings_cache
    from shared.timeutil import utcnow

    from services.members.profiles import service as profiles
    from services.points.access import SYSTEM as POINTS_SYSTEM
    from services.points.config import reset_points_settings_cache
    from services.points.directory import TrustingDirectory
    from services.points.earning.rules import PurchaseInput
    from services.points.earning.service import record_purchases
    from services.points.partners.service import set_programme

    # The started processes' settings (data dir, keys), so what is seeded here they can read; the
    # seed's purchases tell members nothing, or members would still be digesting them while measured.
    os.environ.update({k: v for k, v in env.items() if k.startswith("ABG_")} | {"ABG_POINTS_PURCHASE_EVENT_SUBSCRIBERS": ""})
    reset_settings_cache()
    reset_points_settings_cache()
    url = with_database(EmbeddedPostgres(pgdata=(Path(env["ABG_DATA_DIR"]) / "pg").resolve(), system_user=None).url, EMBEDDED_DATABASE)
    db = get_database(url)
    settings = settings_of_environment(env)
    try:
        started = time.perf_counter()
        gate = asyncio.Semaphore(8)

        async def register(i: int) -> Any:
            async with gate:
                return await profiles.register_member(db, SIGNUP, phone=f"+86136{i:08d}", display_name=f"Bench Member {i}",
                                                      email=f"member{i}@example.com", birthday=None)

        views = list(await asyncio.gather(*(register(i) for i in range(count))))
        programme = (await set_programme(db, POINTS_SYSTEM, partner_id=uuid.uuid4(), currency="CNY", return_window_days=0,
                                         cost_per_point_minor=1)).id
        now = utcnow()
        items = [PurchaseInput(programme, v.id, f"seed-{v.id}", 10_000 * (i + 1), "CNY", now) for i, v in enumerate(views)]
        results = await record_purchases(db, EARNER, items, directory=TrustingDirectory())
        assert not [r for r in results if isinstance(r, Exception)], results[:3]
        async with db.engine.begin() as connection:
            await connection.exec_driver_sql("ANALYZE")
        print(f"registered {count} members with points in {time.perf_counter() - started:.1f} s", flush=True)
    finally:
        await dispose_databases()
    members = [Member(id=str(v.id), token=mint_token("member", str(v.id), ttl_seconds=3600, settings=settings),
                      representation={"__typename": "Member", "id": str(v.id)}) for v in views]
    return members, url


def reads(ports: dict[str, int], members: list[Member]) -> list[Read]:
    def url(service: str) -> str:
        return f"http://127.0.0.1:{ports[service]}/graphql"

    return [
        Read("gateway", url("gateway"), [(m.token, {"query": GATEWAY_QUERY}) for m in members]),
        Read("members", url("members"), [(m.token, {"query": MEMBERS_QUERY}) for m in members]),
        Read("points", url("points"), [(m.token, {"query": POINTS_QUERY, "variables": {"r": [m.representation]}}) for m in members]),
    ]


def session_counter(url: str) -> Counter:
    """Connections PostgreSQL has accepted so far (all databases), counting its own."""
    import asyncpg

    async def count() -> int:
        connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            return int(await connection.fetchval("SELECT sum(sessions) FROM pg_stat_database"))
        finally:
            await connection.close()

    return lambda: asyncio.run(count())


def with_wrk(read: Read, meter: CpuMeter, args: argparse.Namespace, scratch: Path, sessions: Counter) -> tuple[Result, int]:
    requests = scratch / f"{read.name}.lines"
    requests.write_text("".join(f"{token} {json.dumps(body, separators=(',', ':'))}\n" for token, body in read.bodies))
    script = scratch / "rotate.lua"
    script.write_text(WRK_SCRIPT)
    base = read.url.rsplit("/", 1)[0]
    env = os.environ | {"BENCH_REQUESTS": str(requests), "BENCH_PATH": "/graphql"}

    def run(seconds: float) -> dict[str, Any]:
        done = subprocess.run(["wrk", "-t", "2", "-c", str(args.concurrency), "-d", f"{max(1, round(seconds))}s",
                               "--timeout", "10s", "-s", str(script), base], env=env, capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
        found = [line for line in done.stdout.splitlines() if line.startswith("BENCH ")]
        if not found:
            raise RuntimeError(f"wrk printed no figures:\n{done.stdout}\n{done.stderr}")
        figures = json.loads(found[-1][6:])
        if figures["failed"] or figures["socket_errors"]:
            raise RuntimeError(f"{read.name}: {figures['failed']} failed answers, {figures['socket_errors']} socket errors:\n{done.stderr[:600]}")
        return figures

    run(args.warmup)
    before = sessions()
    meter.start()
    started = time.perf_counter()
    figures = run(args.seconds)
    cpu = meter.stop(time.perf_counter() - started)
    opened = sessions() - before - 1  # the first count's own connection
    return Result(figures["requests"] / figures["seconds"], figures["p50"], figures["p95"], figures["p99"], figures["requests"], cpu), opened


def with_python(read: Read, meter: CpuMeter, args: argparse.Namespace, sessions: Counter) -> tuple[Result, int]:
    bodies = {token: body for token, body in read.bodies}

    async def call(client: httpx.AsyncClient, member: Member) -> None:
        response = await client.post(read.url, json=bodies[member.token], headers={"authorization": f"Bearer {member.token}"})
        body = response.json()
        if response.status_code != 200 or body.get("errors") or not read.check(body["data"]):
            raise RuntimeError(f"{read.url}: {response.status_code}: {str(body)[:500]}")

    members = [Member(id=str(i), token=token, representation={}) for i, (token, _) in enumerate(read.bodies)]
    asyncio.run(measure(call, members, meter, concurrency=args.concurrency, seconds=args.warmup, warmup=0))
    before = sessions()
    result = asyncio.run(measure(call, members, meter, concurrency=args.concurrency, seconds=args.seconds, warmup=0))
    return result, sessions() - before - 1


def report(read: Read, result: Result, new_connections: int) -> str:
    cpu = ", ".join(f"{name} {share:.2f}" for name, share in result.cpu.items())
    subgraphs = {"gateway": ("members", "points"), "members": ("members",), "points": ("points",)}[read.name]
    per_core = ", ".join(f"{s} {result.rps / result.cpu[s]:,.0f}" for s in subgraphs if result.cpu.get(s))
    return (f"{read.name:<8} {result.rps:>8.1f} req/s   p50 {result.p50:7.2f} ms   p95 {result.p95:7.2f} ms   "
            f"p99 {result.p99:7.2f} ms   ({result.count} requests, {new_connections} new PostgreSQL connections)\n"
            f"{'':<8} cores used: {cpu}\n{'':<8} reads per second per core used: {per_core}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--python-load", action="store_true", help="load from this process even if wrk is there")
    args = parser.parse_args()
    use_wrk = shutil.which("wrk") is not None and not args.python_load
    with benchmarked_graph(parser, args) as graph, tempfile.TemporaryDirectory(prefix="abg-wrk-") as scratch:
        members, url = asyncio.run(seed(graph.env, args.members))
        print(f"\n{len(members)} members, {args.concurrency} concurrent connections, {args.seconds} s per read after "
              f"{args.warmup} s warm-up, {psutil.cpu_count()} CPUs, load from {'wrk' if use_wrk else 'this Python process'}\n",
              flush=True)
        sessions = session_counter(url)
        for read in reads(graph.ports, members):
            result, opened = (with_wrk(read, graph.cpu, args, Path(scratch), sessions) if use_wrk
                              else with_python(read, graph.cpu, args, sessions))
            print(report(read, result, opened), flush=True)


if __name__ == "__main__":
    main()
