"""SubgraphClients and trace context: what each request to a subgraph carries."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest

from gateway.execution.client import SubgraphClients
from tests.gateway.kit.servers import LiveServer
from tests.shared.telemetry.kit import TraceParent, recorded_spans


class RecordingSubgraph:
    """Answers every POST after a pause (so identical queries overlap), keeping the headers it got."""

    def __init__(self) -> None:
        self.headers: list[dict[str, str]] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        while (await receive()).get("more_body"):
            pass
        self.headers.append({name.decode(): value.decode() for name, value in scope["headers"]})
        await asyncio.sleep(0.05)
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": orjson.dumps({"data": {"ok": True}})})


@pytest.fixture
async def subgraph() -> AsyncIterator[tuple[RecordingSubgraph, str]]:
    app = RecordingSubgraph()
    server = await LiveServer(app).start()
    yield app, server.url
    await server.stop()


QUERY = {"query": "query Probe { ok }"}


async def test_identical_queries_of_different_traces_are_still_sent_once(subgraph: tuple[RecordingSubgraph, str]) -> None:
    app, url = subgraph
    clients = SubgraphClients({"s": url})
    callers = [{"traceparent": TraceParent.new().header(), "tracestate": f"v={n}"} for n in range(3)]
    await asyncio.gather(*(clients.post("s", QUERY, headers) for headers in callers))
    assert len(app.headers) == 1
    assert app.headers[0]["traceparent"] == callers[0]["traceparent"]  # untraced: passed through as it came
    await clients.aclose()


async def test_traced_each_request_sent_is_a_span_whose_context_the_subgraph_gets(
    subgraph: tuple[RecordingSubgraph, str],
) -> None:
    app, url = subgraph
    clients = SubgraphClients({"s": url})
    stale = {"traceparent": TraceParent.new().header(), "tracestate": "stale=1"}
    with recorded_spans() as spans:
        await asyncio.gather(*(clients.post("s", QUERY, stale) for _ in range(3)))
    (fetch,) = spans.get_finished_spans()  # deduplicated callers share the one request's span
    assert fetch.name == "subgraph s" and fetch.attributes["graphql.operation.name"] == "Probe"
    (received,) = app.headers
    # the gateway's own span is the parent now; the headers forwarded from the client are replaced
    assert TraceParent.parse(received["traceparent"]) == TraceParent(fetch.context.trace_id, fetch.context.span_id)
    assert "tracestate" not in received
    await clients.aclose()
