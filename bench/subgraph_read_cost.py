"""Where one small read's CPU goes inside a subgraph: the members `me` read and points' `_entities`
read of a member's points, each sent to the subgraph's ASGI app in this process (no network, no
uvicorn), one after another, as many members in turn.

Prints the CPU per request without a profiler, then, from a cProfile run, the share of each layer
(own time of the functions in it): the ASGI stack and strawberry's HTTP view, authentication,
GraphQL parsing/validation/execution (strawberry and graphql-core, DataLoaders included), the
database (SQLAlchemy, asyncpg, greenlets), personal-data crypto, the service's own code, and the
event loop. A profiler inflates calls, so read the shares, not the profiled times.

The database is an embedded PostgreSQL of a throwaway graph started as `abg run --no-seed` starts
it (the other processes idle meanwhile), seeded like bench/member_query.py.

    .venv/bin/python bench/subgraph_read_cost.py [--members 200] [--requests 3000]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import importlib
import os
import pstats
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import orjson  # noqa: E402
import uvloop  # noqa: E402  (the loop uvicorn serves the apps on: --loop uvloop)

from benefits_catalogue_gateway import benchmarked_graph  # noqa: E402
from member_query import MEMBERS_QUERY, POINTS_QUERY, seed  # noqa: E402

# First match wins: (layer, fragments of the file path or function name).
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("authentication (JWT)", ("shared/auth/", "/jwt/")),
    ("personal-data crypto", ("shared/crypto", "/cryptography/")),
    ("database (SQLAlchemy, asyncpg)", ("/sqlalchemy/", "/asyncpg/", "shared/database/", "greenlet", "/sqlmodel/")),
    ("GraphQL (strawberry, graphql-core)", ("/graphql/", "strawberry/schema", "strawberry/types", "strawberry/extensions",
                                            "strawberry/dataloader", "strawberry/federation", "strawberry/utils",
                                            "shared/federation/documents", "shared/federation/errors", "shared/federation/context")),
    ("HTTP/ASGI (starlette, strawberry view, JSON)", ("/starlette/", "strawberry/http", "strawberry/asgi", "shared/federation/",
                                                      "orjson", "/json/", "email/", "urllib", "shared/request_id")),
    ("service code", ("/services/",)),
    ("event loop", ("asyncio/", "selectors", "epoll", "contextvars", "_asyncio", "uvloop", "socket")),
]


def layer_of(filename: str, function: str) -> str:
    where = f"{filename}:{function}"
    for layer, fragments in LAYERS:
        if any(fragment in where for fragment in fragments):
            return layer
    return "other (typing, uuid, functools, ...)"


class Driver:
    """Sends requests to an ASGI app in this process, as uvicorn would hand them over."""

    def __init__(self, app: Any, path: str = "/graphql") -> None:
        self.app = app
        self.path = path

    async def post(self, token: str, body: bytes) -> bytes:
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
            "path": self.path, "raw_path": self.path.encode(), "query_string": b"", "root_path": "",
            "headers": [(b"host", b"bench"), (b"content-type", b"application/json"),
                        (b"authorization", f"Bearer {token}".encode()), (b"content-length", str(len(body)).encode())],
            "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 4000),
        }
        chunks: list[bytes] = []
        delivered = False

        async def receive() -> dict[str, Any]:
            nonlocal delivered
            if delivered:  # the app asked beyond the body: wait as a quiet client would
                await asyncio.sleep(3600)
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, send)
        return b"".join(chunks)


async def cost(service: str, requests: list[tuple[str, bytes]], count: int) -> tuple[float, dict[str, float], list[str]]:
    """CPU per request (ms) without a profiler, each layer's share of the profiled own time, and
    the biggest functions of the "other" layer."""
    app = importlib.import_module(f"services.{service}.app").app
    driver = Driver(app)
    async with app.router.lifespan_context(app):
        for token, body in requests[:100]:  # warm: pools, caches, prepared statements
            answer = await driver.post(token, body)
            if b'"errors"' in answer:
                raise RuntimeError(f"{service}: {answer[:400]!r}")
        started = time.process_time()
        for i in range(count):
            await driver.post(*requests[i % len(requests)])
        per_request = (time.process_time() - started) * 1000 / count
        profile = cProfile.Profile(time.process_time)  # CPU, not wall time: waiting on PostgreSQL is not cost
        profile.enable()
        for i in range(count):
            await driver.post(*requests[i % len(requests)])
        profile.disable()
    shares: Counter[str] = Counter()
    others: Counter[str] = Counter()
    for (filename, _line, function), (_cc, _nc, own, _cum, callers) in pstats.Stats(profile).stats.items():  # type: ignore[attr-defined]
        if filename == "~" and callers:  # a builtin (isinstance, a C method): its callers' layers, as they spent it
            for (caller_file, _l, caller_function), (_c, _n, caller_own, _cu) in callers.items():
                shares[layer_of(caller_file, caller_function + function)] += caller_own
        else:
            shares[layer_of(filename, function)] += own
            if layer_of(filename, function).startswith("other"):
                others[f"{Path(filename).name}:{function}"] += own
    total = sum(shares.values())
    biggest = [f"{name} {own / total * 100:.1f} %" for name, own in others.most_common(5)]
    return per_request, {layer: own / total for layer, own in shares.most_common()}, biggest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--requests", type=int, default=3000)
    args = parser.parse_args()
    args.concurrency = 1  # benchmarked_graph's check; requests here go one at a time
    with benchmarked_graph(parser, args) as graph:
        members, _url = asyncio.run(seed(graph.env, args.members))
        # This process serves the apps itself, with the graph's settings (its database and keys).
        os.environ.update({k: v for k, v in graph.env.items() if k.startswith("ABG_")})
        reads = {
            "members": [(m.token, orjson.dumps({"query": MEMBERS_QUERY})) for m in members],
            "points": [(m.token, orjson.dumps({"query": POINTS_QUERY, "variables": {"r": [m.representation]}})) for m in members],
        }
        for service, requests in reads.items():
            os.environ["ABG_SERVICE_NAME"] = service
            per_request, shares, others = uvloop.run(cost(service, requests, args.requests))
            print(f"\n{service}: {per_request:.3f} ms of CPU per request ({args.requests} requests, {len(members)} members in turn)")
            for layer, share in shares.items():
                print(f"  {share * 100:5.1f} %  {layer}")
            print(f"  of which \"other\": {', '.join(others)}")


if __name__ == "__main__":
    main()
