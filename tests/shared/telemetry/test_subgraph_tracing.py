"""Tracing in the subgraph app factory: a service's spans join the caller's trace, and its calls to
other services carry the context on (the app runs in this process, spans recorded in memory; the
other service is stood in for by respx)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import respx
import strawberry
from opentelemetry import context as context_api
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from shared.federation import build_schema, create_subgraph_app
from shared.http import aclose_http_client, call_service
from shared.settings import Settings
from shared.telemetry import TRACING
from tests.shared.telemetry.kit import TraceParent, one, parent_id, recorded_spans

POINTS_URL = "http://points.internal:9000/graphql"
SETTINGS = Settings(jwt_secret="tracing-test-secret-" + "s" * 40, service_name="members", points_url=POINTS_URL)


@strawberry.type
class Query:
    @strawberry.field
    def hello(self) -> str:
        return "hello"

    @strawberry.field
    async def balance(self) -> int:
        data = await call_service("points", "query Balance { balance }", settings=SETTINGS)
        return int(data["balance"])


async def _client(app: object) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://members.test")


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    with recorded_spans() as exporter:
        yield exporter


@pytest.fixture
async def traced(database_url: str, spans: InMemorySpanExporter) -> AsyncIterator[httpx.AsyncClient]:
    app = create_subgraph_app(service="members", schema=build_schema(query=Query))  # tracing is on already
    async with app.router.lifespan_context(app), await _client(app) as client:
        yield client


@pytest.fixture
async def untraced(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    assert not TRACING.on
    app = create_subgraph_app(service="members", schema=build_schema(query=Query))
    async with app.router.lifespan_context(app), await _client(app) as client:
        yield client


@pytest.fixture
def points() -> Iterator[respx.Route]:
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as router:
        router.route(host="members.test").pass_through()
        yield router.post(POINTS_URL).respond(json={"data": {"balance": 42}})


@pytest.fixture(autouse=True)
async def fresh_http_client() -> AsyncIterator[None]:
    yield
    await aclose_http_client()  # made in this test's loop under respx: not for the next test


async def test_the_server_span_is_a_child_of_the_callers_traceparent(
    traced: httpx.AsyncClient, spans: InMemorySpanExporter
) -> None:
    caller = TraceParent.new()
    response = await traced.post(
        "/graphql", json={"query": "query Hello { hello }", "operationName": "Hello"},
        headers={"traceparent": caller.header()},
    )
    assert response.json() == {"data": {"hello": "hello"}}
    server = one(spans.get_finished_spans(), "POST /graphql")
    assert server.kind == SpanKind.SERVER
    assert server.context.trace_id == caller.trace_id
    assert parent_id(server) == caller.span_id and server.parent.is_remote
    assert server.attributes["graphql.operation.name"] == "Hello"
    assert server.attributes["graphql.operation.type"] == "query"
    assert server.attributes["http.response.status_code"] == 200
    assert server.resource.attributes["service.name"] == "tests"


async def test_a_refused_request_is_traced_too(traced: httpx.AsyncClient, spans: InMemorySpanExporter) -> None:
    caller = TraceParent.new()
    response = await traced.post(
        "/graphql", json={"query": "{ hello }"}, headers={"traceparent": caller.header(), "authorization": "Bearer nope"}
    )
    assert response.status_code == 401
    server = one(spans.get_finished_spans(), "POST")  # refused before routing: no route to name it after
    assert server.attributes["http.response.status_code"] == 401
    assert parent_id(server) == caller.span_id


async def test_a_call_to_another_service_is_a_client_span_the_callee_continues(
    traced: httpx.AsyncClient, spans: InMemorySpanExporter, points: respx.Route
) -> None:
    caller = TraceParent.new()
    response = await traced.post("/graphql", json={"query": "{ balance }"}, headers={"traceparent": caller.header()})
    assert response.json() == {"data": {"balance": 42}}
    finished = spans.get_finished_spans()
    server, call = one(finished, "POST /graphql"), one(finished, "call points")
    assert call.kind == SpanKind.CLIENT and parent_id(call) == server.context.span_id
    assert call.attributes["graphql.operation.name"] == "Balance"
    assert call.attributes["http.response.status_code"] == 200
    sent = TraceParent.parse(points.calls.last.request.headers["traceparent"])
    assert sent == TraceParent(caller.trace_id, call.context.span_id)


async def test_untraced_a_service_passes_the_callers_trace_headers_on_unchanged(
    untraced: httpx.AsyncClient, points: respx.Route, monkeypatch: pytest.MonkeyPatch
) -> None:
    made_current: list[object] = []
    attach = context_api.attach
    monkeypatch.setattr(context_api, "attach", lambda ctx: made_current.append(ctx) or attach(ctx))
    caller = TraceParent.new()
    response = await untraced.post(
        "/graphql", json={"query": "{ balance }"}, headers={"traceparent": caller.header(), "tracestate": "v=1"}
    )
    assert response.json() == {"data": {"balance": 42}}
    sent = points.calls.last.request.headers
    assert (sent["traceparent"], sent["tracestate"]) == (caller.header(), "v=1")
    assert made_current == []


async def test_untraced_without_trace_headers_none_are_invented(untraced: httpx.AsyncClient, points: respx.Route) -> None:
    await untraced.post("/graphql", json={"query": "{ balance }"})
    assert "traceparent" not in points.calls.last.request.headers
