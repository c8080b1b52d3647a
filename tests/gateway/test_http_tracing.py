"""Tracing at the gateway: the client's trace continues through every stage and subgraph request.

The gateway's app runs in this process (spans recorded in memory); the subgraphs it calls are the
shop scenario's, over real HTTP on loopback, and record the `traceparent` each request carried.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from opentelemetry import context as context_api
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from gateway.execution.tracing import EXECUTE, PARSE, PLAN, VALIDATE
from gateway.http.app import create_app
from gateway.http.settings import ServerSettings
from shared.telemetry import TRACING
from tests.gateway.kit.scenarios import Shop
from tests.shared.telemetry.kit import TraceParent, named, one, parent_id, recorded_spans

QUERY = "query MyReviews { me { name reviews { body product { name } } } }"


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    with recorded_spans() as exporter:
        yield exporter


async def _client(shop: Shop) -> httpx.AsyncClient:
    app = create_app(shop.gateway(), ServerSettings(verify_tokens=False, metrics=False))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway.test")


@pytest.fixture
async def traced_client(spans: InMemorySpanExporter, shop: Shop) -> AsyncIterator[httpx.AsyncClient]:
    async with await _client(shop) as client:
        yield client


def _received(shop: Shop) -> list[tuple[str, dict[str, str]]]:
    return [(name, request["headers"]) for name, sub in shop.subgraphs.items() for request in sub.requests]


async def test_a_query_continues_the_clients_trace_through_every_stage_and_subgraph(
    shop: Shop, traced_client: httpx.AsyncClient, spans: InMemorySpanExporter
) -> None:
    client_parent = TraceParent.new()
    response = await traced_client.post(
        "/graphql", json={"query": QUERY, "operationName": "MyReviews"},
        headers={"traceparent": client_parent.header(), "tracestate": "vendor=abc"},
    )
    assert response.json()["data"]["me"]["reviews"][0]["product"]["name"] == "Table"
    finished = spans.get_finished_spans()
    assert {span.context.trace_id for span in finished} == {client_parent.trace_id}

    server = one(finished, "POST /graphql")
    assert server.kind == SpanKind.SERVER
    assert parent_id(server) == client_parent.span_id and server.parent.is_remote
    assert server.attributes["http.request.method"] == "POST"
    assert server.attributes["http.route"] == "/graphql"
    assert server.attributes["http.response.status_code"] == 200
    assert server.attributes["graphql.operation.type"] == "query"
    assert server.attributes["graphql.operation.name"] == "MyReviews"
    for stage in (PARSE, VALIDATE, PLAN, EXECUTE):
        assert parent_id(one(finished, stage)) == server.context.span_id, stage
    execute = one(finished, EXECUTE)
    assert execute.attributes["graphql.operation.name"] == "MyReviews"

    fetches = [span for span in finished if span.name.startswith("subgraph ")]
    received = _received(shop)
    assert len(fetches) == len(received) >= 3  # accounts, reviews, products at least
    assert {span.attributes["subgraph.name"] for span in fetches} == {name for name, _ in received}
    for fetch in fetches:
        assert fetch.kind == SpanKind.CLIENT
        assert parent_id(fetch) == execute.context.span_id
        assert fetch.attributes["http.response.status_code"] == 200
        assert fetch.attributes["graphql.operation.type"] == "query"
        assert fetch.attributes["graphql.operation.name"].startswith("MyReviews__" + fetch.attributes["subgraph.name"])
        assert fetch.attributes["url.full"] == shop.urls[fetch.attributes["subgraph.name"]]
        assert fetch.status.status_code == StatusCode.UNSET
    # Each subgraph request carried a traceparent naming its own fetch span as the parent.
    sent = {(name, TraceParent.parse(headers["traceparent"])) for name, headers in received}
    assert sent == {
        (fetch.attributes["subgraph.name"], TraceParent(client_parent.trace_id, fetch.context.span_id))
        for fetch in fetches
    }
    assert {headers.get("tracestate") for _, headers in received} == {"vendor=abc"}


async def test_repeated_queries_say_the_caches_answered(
    traced_client: httpx.AsyncClient, spans: InMemorySpanExporter
) -> None:
    for _ in range(2):
        await traced_client.post("/graphql", json={"query": QUERY})
    finished = spans.get_finished_spans()
    for stage in (PARSE, VALIDATE, PLAN):
        assert [span.attributes["gateway.cache_hit"] for span in named(finished, stage)] == [False, True], stage
    # without a client traceparent each request is a trace of its own
    assert len({span.context.trace_id for span in named(finished, "POST /graphql")}) == 2


async def test_a_failing_subgraph_marks_its_fetch_span(
    shop: Shop, traced_client: httpx.AsyncClient, spans: InMemorySpanExporter
) -> None:
    shop.subgraphs["products"].behaviour = "http500"
    await traced_client.post("/graphql", json={"query": QUERY})
    fetch = one(spans.get_finished_spans(), "subgraph products")
    assert fetch.status.status_code == StatusCode.ERROR
    assert fetch.attributes["error.type"] == "SUBGRAPH_BAD_RESPONSE"
    assert fetch.attributes["http.response.status_code"] == 500
    healthy = one(spans.get_finished_spans(), "subgraph accounts")
    assert healthy.status.status_code == StatusCode.UNSET


async def test_an_invalid_document_stops_after_validation(
    traced_client: httpx.AsyncClient, spans: InMemorySpanExporter
) -> None:
    await traced_client.post("/graphql", json={"query": "{ me { nope } }"})
    names = [span.name for span in spans.get_finished_spans()]
    assert PARSE in names and VALIDATE in names
    assert PLAN not in names and EXECUTE not in names
    assert not [name for name in names if name.startswith("subgraph ")]


async def test_health_checks_make_no_spans(traced_client: httpx.AsyncClient, spans: InMemorySpanExporter) -> None:
    assert (await traced_client.get("/health")).status_code == 200
    assert spans.get_finished_spans() == ()


async def test_untraced_the_clients_trace_headers_pass_through_unchanged_and_no_span_is_made(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert not TRACING.on
    made_current: list[object] = []
    attach = context_api.attach
    # every span made current (and every extracted parent) goes through attach
    monkeypatch.setattr(context_api, "attach", lambda ctx: made_current.append(ctx) or attach(ctx))
    client_parent = TraceParent.new()
    async with await _client(shop) as client:
        response = await client.post(
            "/graphql", json={"query": QUERY},
            headers={"traceparent": client_parent.header(), "tracestate": "vendor=abc"},
        )
    assert response.json()["data"]["me"]["name"] == "Ada Lovelace"
    received = _received(shop)
    assert len(received) >= 3
    assert {(headers["traceparent"], headers["tracestate"]) for _, headers in received} == {
        (client_parent.header(), "vendor=abc")
    }
    assert made_current == []

