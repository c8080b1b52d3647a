"""Where the gateway's CPU goes on the nested benchmark query, without HTTP in front of it.

The three benchmark subgraphs (bench/gateway/subgraphs.py) run as processes answering from
memory; the gateway's pipeline runs in this process (`Gateway.execute`; deduplication off unless
`--deduplicate`, so every request makes its three subgraph requests), eight requests at a time. Prints the CPU per
request without a profiler, then a cProfile table of the gateway's own functions by own time
(a profiler inflates calls: read the shares, not the times).

    .venv/bin/python bench/gateway_execution_cost.py [--requests 2000] [--query nested|shallow|rotating] [--deduplicate]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import pstats
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import uvloop

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.gateway_compare import QUERIES, ROTATE  # noqa: E402
from gateway.composition import compose_from_urls  # noqa: E402
from gateway.execution.client import SubgraphSettings  # noqa: E402
from gateway.execution.pipeline import Gateway, GraphQLRequest, PipelineOptions  # noqa: E402
from gateway.supergraph import load_supergraph  # noqa: E402

SUBGRAPHS = ("catalog", "stock", "partners")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(url: str) -> None:
    for _ in range(200):
        try:
            httpx.post(url, json={"query": "{ __typename }"}, timeout=1.0)
            return
        except httpx.HTTPError:
            time.sleep(0.05)
    raise SystemExit(f"subgraph at {url} did not start")


async def measure(urls: dict[str, str], query_name: str, requests: int, deduplicate: bool) -> None:
    result = await compose_from_urls(urls)
    if result.errors:
        raise SystemExit("; ".join(e.message for e in result.errors))
    gateway = Gateway(
        load_supergraph(result.supergraph_sdl), PipelineOptions(subgraphs=SubgraphSettings(deduplicate=deduplicate))
    )
    query, rotate = QUERIES[query_name], ROTATE.get(query_name)
    counter = iter(range(10**9))

    async def one() -> None:  # a rotating query gets the next $offset each time, as in the benchmark
        variables = {"offset": next(counter) % rotate} if rotate else None
        response = await gateway.execute(GraphQLRequest(query=query, variables=variables))
        if response.body.get("errors"):
            raise SystemExit(f"the query failed: {response.body['errors']}")

    async def run(count: int) -> float:
        started = time.process_time()
        for _ in range(count // 8):
            await asyncio.gather(*(one() for _ in range(8)))
        return (time.process_time() - started) * 1000 / (count // 8 * 8)

    await run(400)  # warm caches, connections and the subgraphs' memos
    label = f"{query_name}, deduplication {'on' if deduplicate else 'off'}"
    print(f"{label}: {await run(requests):.3f} ms of gateway CPU per request (no profiler)")
    profile = cProfile.Profile()
    profile.enable()
    await run(requests)
    profile.disable()
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out).sort_stats("tottime")
    stats.print_stats(str(ROOT / "gateway"), 20)
    print(out.getvalue())
    await gateway.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--query", default="nested", choices=sorted(QUERIES))
    parser.add_argument("--deduplicate", action="store_true", help="as shipped: identical requests in flight sent once")
    args = parser.parse_args()
    processes, urls = [], {}
    try:
        for name in SUBGRAPHS:
            port = free_port()
            urls[name] = f"http://127.0.0.1:{port}/graphql"
            processes.append(
                subprocess.Popen(
                    [sys.executable, str(ROOT / "bench" / "gateway" / "subgraphs.py"), name, str(port)],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        for url in urls.values():
            wait_until_up(url)
        uvloop.run(measure(urls, args.query, args.requests, args.deduplicate))
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)


if __name__ == "__main__":
    main()
