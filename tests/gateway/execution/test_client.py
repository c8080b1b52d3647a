"""SubgraphClients: deduplication of identical in-flight queries, error mapping, observer reports."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest

from gateway.execution.client import SubgraphClients, SubgraphError, SubgraphSettings
from gateway.execution.observer import Observer
from tests.gateway.kit.servers import LiveServer


class SlowSubgraph:
    """Answers every POST after a pause, echoing the authorization header; records what it got."""

    def __init__(self) -> None:
        self.seen: list[tuple[bytes, str]] = []
        self.pause = 0.1

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        auth = dict(scope["headers"]).get(b"authorization", b"").decode()
        self.seen.append((body, auth))
        await asyncio.sleep(self.pause)
        answer = orjson.dumps({"data": {"who": auth, "n": len(self.seen)}})
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": answer})


class Recorder(Observer):
    def __init__(self) -> None:
        self.requests: list[tuple[str, str]] = []
        self.deduplicated: list[str] = []

    def subgraph_request(self, subgraph: str, seconds: float, outcome: str) -> None:
        self.requests.append((subgraph, outcome))

    def subgraph_deduplicated(self, subgraph: str) -> None:
        self.deduplicated.append(subgraph)


@pytest.fixture
async def subgraph() -> AsyncIterator[tuple[SlowSubgraph, str]]:
    app = SlowSubgraph()
    server = await LiveServer(app).start()
    yield app, server.url
    await server.stop()


QUERY = {"query": "{ who n }"}


async def test_identical_queries_in_flight_are_sent_once(subgraph: tuple[SlowSubgraph, str]) -> None:
    app, url = subgraph
    recorder = Recorder()
    clients = SubgraphClients({"s": url}, observer=recorder)
    headers = [{"authorization": "Bearer a", "x-request-id": f"r{n}"} for n in range(10)]
    answers = await asyncio.gather(*(clients.post("s", QUERY, h) for h in headers))
    assert len(app.seen) == 1
    assert all(answer == {"data": {"who": "Bearer a", "n": 1}} for answer in answers)
    answers[0]["data"]["who"] = "changed"  # every caller owns its copy: the executor merges into it
    assert answers[1]["data"]["who"] == "Bearer a"
    assert recorder.requests == [("s", "ok")] and recorder.deduplicated == ["s"] * 9
    await clients.post("s", QUERY, headers[0])  # nothing in flight any more: sent again
    assert len(app.seen) == 2
    await clients.aclose()


async def test_different_callers_or_bodies_are_not_merged(subgraph: tuple[SlowSubgraph, str]) -> None:
    app, url = subgraph
    clients = SubgraphClients({"s": url})
    a, b, c = await asyncio.gather(
        clients.post("s", QUERY, {"authorization": "Bearer a"}),
        clients.post("s", QUERY, {"authorization": "Bearer b"}),
        clients.post("s", {"query": "{ who }"}, {"authorization": "Bearer a"}),
    )
    assert len(app.seen) == 3
    assert (a["data"]["who"], b["data"]["who"]) == ("Bearer a", "Bearer b")
    await clients.aclose()


async def test_mutations_and_switched_off_deduplication_send_every_request(subgraph: tuple[SlowSubgraph, str]) -> None:
    app, url = subgraph
    clients = SubgraphClients({"s": url})
    await asyncio.gather(*(clients.post("s", QUERY, repeatable=False) for _ in range(3)))
    assert len(app.seen) == 3
    off = SubgraphClients({"s": url}, SubgraphSettings(deduplicate=False))
    await asyncio.gather(*(off.post("s", QUERY) for _ in range(3)))
    assert len(app.seen) == 6
    await clients.aclose()
    await off.aclose()


async def test_the_first_caller_giving_up_does_not_fail_the_others(subgraph: tuple[SlowSubgraph, str]) -> None:
    app, url = subgraph
    clients = SubgraphClients({"s": url})
    first = asyncio.create_task(clients.post("s", QUERY))
    await asyncio.sleep(0.02)
    second = asyncio.create_task(clients.post("s", QUERY))
    await asyncio.sleep(0.02)
    first.cancel()
    assert (await second) == {"data": {"who": "", "n": 1}}
    assert first.cancelled() and len(app.seen) == 1
    await clients.aclose()


async def test_a_shared_failure_reaches_every_caller() -> None:
    recorder = Recorder()
    clients = SubgraphClients({"s": "http://127.0.0.1:9/graphql"}, observer=recorder)
    results = await asyncio.gather(*(clients.post("s", QUERY) for _ in range(4)), return_exceptions=True)
    assert all(isinstance(r, SubgraphError) and r.code == "SUBGRAPH_UNREACHABLE" for r in results)
    assert recorder.requests == [("s", "unreachable")]
    await clients.aclose()


async def test_timeouts_and_unknown_subgraphs_are_typed(subgraph: tuple[SlowSubgraph, str]) -> None:
    app, url = subgraph
    clients = SubgraphClients({"s": url, "bad": "ftp://nowhere"}, SubgraphSettings(timeouts={"s": 0.02}))
    with pytest.raises(SubgraphError) as timeout:
        await clients.post("s", QUERY)
    assert timeout.value.code == "SUBGRAPH_TIMEOUT"
    with pytest.raises(SubgraphError, match="unknown subgraph"):
        await clients.post("nope", QUERY)
    with pytest.raises(SubgraphError, match="unusable URL"):
        await clients.post("bad", QUERY)
    await clients.aclose()
