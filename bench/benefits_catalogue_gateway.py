"""The catalogue reads through the gateway, as many members at once, against the same reads sent to the
benefits subgraph directly: requests per second and latency p50/p95/p99 of each, and the ratio.

The whole graph is started as `abg run --no-seed` starts it (embedded PostgreSQL, every subgraph in
its own uvicorn process, the gateway), with the shipped settings (log level included; only ports
and the data directory are chosen here), in a throwaway data directory. Once it is up, this script
seeds its database directly: 10,000 benefits of 8 partners the way bench/benefits_catalogue.py does
(a tenth DRAFT, a tenth PAUSED, code pools, budgets), and 200 members registered through the members
service layer. It mints one development token per member with the started processes' settings.

Two reads, as a member app makes them, each from many concurrent clients; each request goes as the
next member in turn, so concurrent requests carry different members' tokens:
  catalogue    `benefits(first: 20, filter: {redeemableNow: true})`;
  eligibility  `member(id) { tier eligibleBenefits(first: 20) }`: through the gateway that is members
               (the member and the fields eligibility requires) then benefits; directly it is the
               benefits subgraph's `_entities` with the representation the gateway would send.
The ratio gateway/direct is the cost of the gateway, including the members hop for eligibility.
The load generator is this one Python process. Where the CPU went while measuring is printed per
process (each subgraph, the gateway, PostgreSQL, the load generator) in shares of one core, so a
machine with few cores shows which process was the limit.

    .venv/bin/python bench/benefits_catalogue_gateway.py [--benefits 10000] [--members 200] [--concurrency 32]
        [--seconds 5] [--warmup 1]

Bounded: about a minute with the defaults (start-up and seeding included).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import httpx  # noqa: E402
import psutil  # noqa: E402

from abg.services import SERVICES  # noqa: E402
from benefits_catalogue import CATALOGUE_QUERY, ELIGIBILITY_QUERY, seed as seed_benefits  # noqa: E402
from shared.auth.principals import Principal, PrincipalKind  # noqa: E402
from shared.auth.tokens import mint_token  # noqa: E402
from shared.settings import settings_of_environment  # noqa: E402

DIRECT_ELIGIBILITY_QUERY = """query Eligible($r: [_Any!]!) { _entities(representations: $r) { ... on Member { id
  eligibleBenefits(first: 20) { edges { node { redeemable reasons interestMatches benefit { id title pointsPrice } } }
  pageInfo { hasNextPage } } } } }"""
SIGNUP = Principal(PrincipalKind.SERVICE, "members")  # members registering through its own layer
BANNER_END = "Ctrl-C stops everything"


@dataclass(frozen=True)
class Member:
    id: str
    token: str
    representation: dict[str, Any]  # what the gateway sends benefits for Member.eligibleBenefits


@dataclass
class Result:
    rps: float
    p50: float
    p95: float
    p99: float
    count: int
    cpu: dict[str, float]  # process → share of one core it used while measuring


class CpuMeter:
    """CPU time of the graph's processes (grouped: each subgraph, the gateway, PostgreSQL) and of
    this one (the load generator), between `start` and `stop`."""

    def __init__(self, run_pid: int, pgdata: Path) -> None:
        self.run_pid = run_pid
        self.pgdata = str(pgdata)
        self.before: dict[int, tuple[str, float]] = {}

    def _postgres(self) -> list[psutil.Process]:
        """The embedded server (pg_ctl detaches it from `abg run`) and its backends."""
        for process in psutil.process_iter(["name", "cmdline"]):
            if process.info["name"] == "postgres" and self.pgdata in " ".join(process.info["cmdline"] or []):
                with contextlib.suppress(psutil.Error):
                    return [process, *process.children(recursive=True)]
        return []

    def _sample(self) -> dict[int, tuple[str, float]]:
        found = {}
        run = psutil.Process(self.run_pid)
        processes = [run, *run.children(recursive=True), *self._postgres(), psutil.Process()]
        for process in processes:
            with contextlib.suppress(psutil.Error):
                times = process.cpu_times()
                found[process.pid] = (self._name(process), times.user + times.system)
        return found

    def _name(self, process: psutil.Process) -> str:
        if process.pid == os.getpid():
            return "load generator"
        line = " ".join(process.cmdline())
        if "multiprocessing" in line and process.parent() is not None:  # a uvicorn worker: its supervisor's name
            return self._name(process.parent())
        for service in SERVICES:
            if f"services.{service.name}.app" in line:
                return service.name
        if "gateway serve" in line:
            return "gateway"
        if "postgres" in process.name() or "postgres" in line:
            return "postgres"
        return "other"

    def start(self) -> None:
        self.before = self._sample()

    def stop(self, elapsed: float) -> dict[str, float]:
        shares: dict[str, float] = {}
        for pid, (name, total) in self._sample().items():
            shares[name] = shares.get(name, 0.0) + (total - self.before.get(pid, (name, 0.0))[1]) / elapsed
        return dict(sorted(((n, v) for n, v in shares.items() if v >= 0.01), key=lambda item: -item[1]))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Graph:
    data_dir: Path
    ports: dict[str, int]
    env: dict[str, str]
    cpu: CpuMeter


@contextlib.contextmanager
def benchmarked_graph(parser: argparse.ArgumentParser, args: argparse.Namespace) -> Iterator[Graph]:
    """What every benchmark of the whole graph does around its workloads: many members' tokens
    (refused otherwise), the graph up in a throwaway data dir, and how long it all took."""
    if args.members < args.concurrency:
        parser.error("--members must be at least --concurrency, so concurrent requests carry different members' tokens")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="abg-bench-") as tmp:
        data_dir = Path(tmp) / "data"
        with running_graph(data_dir) as (ports, env, run_pid):
            print(f"graph up in {time.perf_counter() - started:.1f} s (abg run --no-seed; log in {data_dir / 'run.log'})", flush=True)
            yield Graph(data_dir, ports, env, CpuMeter(run_pid, (data_dir / "pg").resolve()))
    print(f"\ndone in {time.perf_counter() - started:.1f} s", flush=True)


@contextlib.contextmanager
def running_graph(data_dir: Path) -> Iterator[tuple[dict[str, int], dict[str, str], int]]:
    """`abg run --no-seed` on free ports in `data_dir`; its output goes to data_dir/run.log (read
    continuously by nobody, so a file: a pipe left unread would block the services' logging)."""
    ports = {s.name: free_port() for s in SERVICES} | {"gateway": free_port(), "demo_video": free_port()}
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL" and not k.startswith("ABG_")}
    env |= {f"ABG_{name.upper()}_PORT": str(port) for name, port in ports.items()} | {"ABG_DATA_DIR": str(data_dir)}
    log_path = data_dir / "run.log"
    data_dir.mkdir(parents=True, exist_ok=True)
    with log_path.open("w") as log:
        process = subprocess.Popen([sys.executable, "-m", "abg", "run", "--no-seed"], cwd=ROOT, env=env,
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while BANNER_END not in log_path.read_text(errors="replace"):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the graph did not start:\n" + log_path.read_text(errors="replace")[-4000:])
            time.sleep(0.2)
        yield ports, env, process.pid
    finally:
        process.send_signal(signal.SIGINT)  # `abg run` stops every child and the database itself
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


async def seed(data_dir: Path, env: dict[str, str], benefits: int, members: int) -> list[Member]:
    from shared.database import dispose_databases, get_database
    from shared.database.embedded import EmbeddedPostgres
    from shared.database.resolve import EMBEDDED_DATABASE
    from shared.database.urls import with_database

    from services.members.profiles import service as profiles

    url = with_database(EmbeddedPostgres(pgdata=(data_dir / "pg").resolve(), system_user=None).url, EMBEDDED_DATABASE)
    db = get_database(url)
    settings = settings_of_environment(env)
    try:
        started = time.perf_counter()
        views = []
        for i in range(members):
            views.append(await profiles.register_member(
                db, SIGNUP, phone=f"+86139{i:08d}", display_name=f"Bench Member {i}", email=None, birthday=None))
        print(f"registered {members} members in {time.perf_counter() - started:.1f} s", flush=True)
        await seed_benefits(db, benefits, views[0].id)  # also 40 redemptions of the first member
    finally:
        await dispose_databases()
    return [
        Member(
            id=str(v.id),
            token=mint_token("member", str(v.id), ttl_seconds=3600, settings=settings),
            representation={"__typename": "Member", "id": str(v.id), "tier": v.tier, "status": v.status,
                            "birthdayMonth": v.birthday_month, "preferences": None},
        )
        for v in views
    ]


Call = Callable[[httpx.AsyncClient, Member], Awaitable[None]]


def graphql(url: str, query: str, variables: Callable[[Member], dict[str, Any]], check: Callable[[dict[str, Any]], bool]) -> Call:
    async def call(client: httpx.AsyncClient, member: Member) -> None:
        response = await client.post(url, json={"query": query, "variables": variables(member)},
                                     headers={"authorization": f"Bearer {member.token}"})
        body = response.json()
        if response.status_code != 200 or body.get("errors") or not check(body["data"]):
            raise RuntimeError(f"{url}: {response.status_code}: {str(body)[:500]}")

    return call


async def measure(call: Call, members: list[Member], meter: CpuMeter, *, concurrency: int, seconds: float, warmup: float) -> Result:
    latencies: list[float] = []
    turns = itertools.cycle(members)  # the next member for each request: concurrent requests differ
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:

        async def client_loop(until: float, record: bool) -> None:
            while time.perf_counter() < until:
                started = time.perf_counter()
                await call(client, next(turns))
                if record:
                    latencies.append(time.perf_counter() - started)

        await asyncio.gather(*(client_loop(time.perf_counter() + warmup, False) for _ in range(concurrency)))
        meter.start()
        started = time.perf_counter()
        await asyncio.gather(*(client_loop(started + seconds, True) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
        cpu = meter.stop(elapsed)
    cuts = statistics.quantiles(latencies, n=100)
    return Result(len(latencies) / elapsed, cuts[49] * 1000, cuts[94] * 1000, cuts[98] * 1000, len(latencies), cpu)


def line(name: str, r: Result) -> str:
    cpu = ", ".join(f"{name} {share:.2f}" for name, share in r.cpu.items())
    return (f"{name:<24} {r.rps:>8.1f} req/s   p50 {r.p50:7.2f} ms   p95 {r.p95:7.2f} ms   p99 {r.p99:7.2f} ms"
            f"   ({r.count} requests)\n{'':<24} cores used: {cpu}")


async def bench(args: argparse.Namespace, ports: dict[str, int], members: list[Member], meter: CpuMeter) -> None:
    gateway = f"http://127.0.0.1:{ports['gateway']}/graphql"
    benefits = f"http://127.0.0.1:{ports['benefits']}/graphql"

    def page_full(data: dict[str, Any]) -> bool:
        return len(data["benefits"]["edges"]) == 20

    reads = {
        "catalogue": (
            graphql(gateway, CATALOGUE_QUERY, lambda m: {}, page_full),
            graphql(benefits, CATALOGUE_QUERY, lambda m: {}, page_full),
        ),
        "eligibility": (
            graphql(gateway, ELIGIBILITY_QUERY, lambda m: {"id": m.id},
                    lambda d: d["member"]["id"] and len(d["member"]["eligibleBenefits"]["edges"]) == 20),
            graphql(benefits, DIRECT_ELIGIBILITY_QUERY, lambda m: {"r": [m.representation]},
                    lambda d: len(d["_entities"][0]["eligibleBenefits"]["edges"]) == 20),
        ),
    }
    print(f"\n{len(members)} members, {args.concurrency} concurrent clients, {args.seconds} s per read after "
          f"{args.warmup} s warm-up, {psutil.cpu_count()} CPUs; gateway {gateway}, benefits subgraph {benefits}", flush=True)
    results: dict[tuple[str, str], Result] = {}
    for read, (via_gateway, direct) in reads.items():
        for where, call in (("gateway", via_gateway), ("subgraph", direct)):
            result = await measure(call, members, meter, concurrency=args.concurrency, seconds=args.seconds, warmup=args.warmup)
            results[(read, where)] = result
            print(line(f"{read} via {where}", result), flush=True)
    print("\ngateway / direct to the benefits subgraph:")
    for read in reads:
        g, s = results[(read, "gateway")], results[(read, "subgraph")]
        print(f"  {read:<12} throughput x{g.rps / s.rps:.2f}   p50 x{g.p50 / s.p50:.2f}   p95 x{g.p95 / s.p95:.2f}"
              f"   p99 x{g.p99 / s.p99:.2f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--benefits", type=int, default=10_000)
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    args = parser.parse_args()
    with benchmarked_graph(parser, args) as graph:
        members = asyncio.run(seed(graph.data_dir, graph.env, args.benefits, args.members))
        asyncio.run(bench(args, graph.ports, members, graph.cpu))


if __name__ == "__main__":
    main()
