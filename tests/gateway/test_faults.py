"""Faults through the gateway: one vocabulary of codes with the subgraphs, one error per failure,
and the caller's deadline passed on to the subgraphs.

The subgraph is a strawberry schema built like our services' (`shared.federation.build_schema`,
with its error policy), served over real HTTP on loopback.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import strawberry
from starlette.applications import Starlette
from starlette.routing import Route
from strawberry.asgi import GraphQL

from gateway.composition.compose import compose
from gateway.execution.client import SubgraphSettings
from gateway.execution.pipeline import Gateway, PipelineOptions
from gateway.http.app import create_app
from gateway.http.settings import ServerSettings
from gateway.supergraph import load_supergraph
from live_services import free_port
from shared.federation import build_schema
from tests.gateway.kit.servers import LiveServer

seen_timeouts: list[str | None] = []


@strawberry.input
class Range:
    low: int
    high: int


@strawberry.type
class Query:
    @strawberry.field
    def double(self, n: int) -> int:
        return 2 * n

    @strawberry.field
    def width(self, range: Range) -> int:
        return range.high - range.low


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def hold_points(self, info: strawberry.Info, points: int, pause: float = 0) -> int:
        seen_timeouts.append(info.context["request"].headers.get("x-request-timeout-ms"))
        await asyncio.sleep(pause)
        return points


SCHEMA = build_schema(query=Query, mutation=Mutation)


def _subgraph_app() -> Starlette:
    return Starlette(routes=[Route("/graphql", GraphQL(SCHEMA, graphql_ide=None), methods=["GET", "POST"])])


def _gateway(url: str, **subgraph: Any) -> Gateway:
    sdl = SCHEMA.execute_sync("{ _service { sdl } }").data["_service"]["sdl"]  # type: ignore[index]
    composed = compose({"points": (url, sdl)})
    assert composed.ok, composed.errors
    return Gateway(load_supergraph(composed.supergraph_sdl or ""), PipelineOptions(subgraphs=SubgraphSettings(**subgraph)))


@pytest.fixture(scope="module")
async def subgraph() -> AsyncIterator[LiveServer]:
    server = await LiveServer(_subgraph_app()).start()
    yield server
    await server.stop()


async def _clients(subgraph: LiveServer, settings: ServerSettings | None = None) -> tuple[httpx.AsyncClient, httpx.AsyncClient]:
    app = create_app(_gateway(subgraph.url), settings or ServerSettings())
    gateway = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway.test")
    return gateway, httpx.AsyncClient(base_url=subgraph.url.removesuffix("/graphql"))


BAD_REQUESTS = [
    # (what, request, code both must give): Apollo Server's vocabulary
    ("variable of the wrong type", {"query": "query($n: Int!) { double(n: $n) }", "variables": {"n": "x"}}, "BAD_USER_INPUT"),
    ("missing variable", {"query": "query($n: Int!) { double(n: $n) }", "variables": {}}, "BAD_USER_INPUT"),
    ("null for a non-null variable", {"query": "query($n: Int!) { double(n: $n) }", "variables": {"n": None}}, "BAD_USER_INPUT"),
    ("input object missing a field",
     {"query": "query($r: Range!) { width(range: $r) }", "variables": {"r": {"low": 1}}}, "BAD_USER_INPUT"),
    ("variable used where another type is expected",
     {"query": "query($n: String!) { double(n: $n) }", "variables": {"n": "x"}}, "GRAPHQL_VALIDATION_FAILED"),
    ("literal of the wrong type", {"query": '{ double(n: "x") }'}, "GRAPHQL_VALIDATION_FAILED"),
    ("unknown field", {"query": "{ nope }"}, "GRAPHQL_VALIDATION_FAILED"),
    ("unknown variable type", {"query": "query($n: Nope!) { double(n: $n) }", "variables": {"n": 1}}, "GRAPHQL_VALIDATION_FAILED"),
    ("syntax error", {"query": "{ double(n: 1"}, "GRAPHQL_PARSE_FAILED"),
]


@pytest.mark.parametrize(("what", "request_body", "code"), BAD_REQUESTS, ids=[b[0] for b in BAD_REQUESTS])
async def test_gateway_and_subgraph_give_a_bad_request_the_same_code(
    subgraph: LiveServer, what: str, request_body: dict[str, Any], code: str
) -> None:
    gateway, direct = await _clients(subgraph)
    async with gateway, direct:
        through_gateway = (await gateway.post("/graphql", json=request_body)).json()["errors"]
        straight = (await direct.post("/graphql", json=request_body)).json()["errors"]
    assert [e["extensions"]["code"] for e in through_gateway] == [code], through_gateway
    assert [e["extensions"]["code"] for e in straight] == [code], straight


async def test_a_subgraph_that_is_down_gives_one_error_with_a_code() -> None:
    app = create_app(_gateway(f"http://127.0.0.1:{free_port()}/graphql"), ServerSettings())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway.test") as client:
        body = (await client.post("/graphql", json={"query": "mutation { holdPoints(points: 5) }"})).json()
        query_body = (await client.post("/graphql", json={"query": "{ double(n: 2) }"})).json()
    assert body["data"] is None
    (error,) = body["errors"]
    assert error["extensions"] == {"code": "SUBGRAPH_UNREACHABLE", "serviceName": "points", "outcome": "NOT_APPLIED"}
    (error,) = query_body["errors"]
    assert error["extensions"] == {"code": "SUBGRAPH_UNREACHABLE", "serviceName": "points"}  # a query changes nothing


async def test_every_error_carries_a_code_when_a_subgraph_breaks_its_promise() -> None:
    async def null_answer(request: Any) -> Any:
        from starlette.responses import JSONResponse

        return JSONResponse({"data": {"double": None}})

    server = await LiveServer(Starlette(routes=[Route("/graphql", null_answer, methods=["POST"])])).start()
    try:
        app = create_app(_gateway(server.url), ServerSettings())
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway.test") as client:
            body = (await client.post("/graphql", json={"query": "{ double(n: 2) }"})).json()
    finally:
        await server.stop()
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "SUBGRAPH_BAD_RESPONSE"


async def test_the_gateway_tells_subgraphs_how_long_the_caller_waits(subgraph: LiveServer) -> None:
    gateway, direct = await _clients(subgraph, ServerSettings(request_timeout_seconds=20))
    seen_timeouts.clear()
    async with gateway, direct:
        await gateway.post("/graphql", json={"query": "mutation { holdPoints(points: 1) }"})
        await gateway.post(
            "/graphql", json={"query": "mutation { holdPoints(points: 1) }"}, headers={"x-request-timeout-ms": "2000"}
        )
        await gateway.post(  # a client may shorten the gateway's time, never lengthen it
            "/graphql", json={"query": "mutation { holdPoints(points: 1) }"}, headers={"x-request-timeout-ms": "99000"}
        )
    first, second, third = (int(t or -1) for t in seen_timeouts)
    assert 19_000 < first < 20_000
    assert 1_500 < second < 2_000
    assert 19_000 < third < 20_000


async def test_a_mutation_the_gateway_gives_up_on_has_an_unknown_outcome(subgraph: LiveServer) -> None:
    gateway, direct = await _clients(subgraph)
    async with gateway, direct:
        started = time.monotonic()
        body = (
            await gateway.post(
                "/graphql",
                json={"query": "mutation { holdPoints(points: 1, pause: 2) }"},
                headers={"x-request-timeout-ms": "300"},
            )
        ).json()
        elapsed = time.monotonic() - started
    (error,) = body["errors"]
    assert error["extensions"] == {"code": "SUBGRAPH_TIMEOUT", "serviceName": "points", "outcome": "UNKNOWN"}
    assert elapsed < 1.5
