"""Subscriptions through the gateway over Server-Sent Events (graphql-sse, distinct connections),
and what a subscription sent as plain JSON gets."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest

from gateway.http.settings import ServerSettings
from tests.gateway.kit.strawberry_subscriptions import SubscriptionStack

pytestmark = pytest.mark.timeout(60)

EVENTS = 'subscription E($n: Int) { pointsEvents(memberId: "m1", count: $n) { sequence member { name } } }'
FOREVER = 'subscription { pointsEvents(memberId: "m2") { sequence } }'
SSE = {"accept": "text/event-stream"}


@pytest.fixture(scope="module")
async def gateway_url(stack: SubscriptionStack) -> str:
    return await stack.serve(ServerSettings(verify_tokens=True))


async def read_events(response: httpx.Response) -> AsyncIterator[tuple[str, Any]]:
    """(event, data) per server-sent event."""
    event, data = None, []
    async for line in response.aiter_lines():
        if line.startswith("event:"):
            event = line.removeprefix("event:").strip()
        elif line.startswith("data:"):
            data.append(line.removeprefix("data:").strip())
        elif line == "" and event is not None:
            joined = "\n".join(data)
            yield event, orjson.loads(joined) if joined else None
            event, data = None, []


async def all_events(response: httpx.Response) -> list[tuple[str, Any]]:
    async with asyncio.timeout(10):  # a guard against hanging, not a timing assertion
        return [item async for item in read_events(response)]


async def test_events_arrive_in_order_and_the_stream_completes(stack: SubscriptionStack, gateway_url: str) -> None:
    async with httpx.AsyncClient() as client:
        body = {"query": EVENTS, "variables": {"n": 3}}
        async with client.stream("POST", gateway_url, json=body, headers=SSE) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            events = await all_events(response)
    assert events == [
        ("next", {"data": {"pointsEvents": {"sequence": 1, "member": {"name": "Ada"}}}}),
        ("next", {"data": {"pointsEvents": {"sequence": 2, "member": {"name": "Ada"}}}}),
        ("next", {"data": {"pointsEvents": {"sequence": 3, "member": {"name": "Ada"}}}}),
        ("complete", None),
    ]


async def test_get_works_for_eventsource_clients(gateway_url: str) -> None:
    params = {"query": EVENTS, "variables": orjson.dumps({"n": 1}).decode()}
    async with httpx.AsyncClient() as client:
        async with client.stream("GET", gateway_url, params=params, headers=SSE) as response:
            events = await all_events(response)
    event = {"data": {"pointsEvents": {"sequence": 1, "member": {"name": "Ada"}}}}
    assert events == [("next", event), ("complete", None)]


async def test_a_query_asked_for_as_events_gets_one_next_and_complete(gateway_url: str) -> None:
    async with httpx.AsyncClient() as client:
        async with client.stream("POST", gateway_url, json={"query": "{ feedVersion }"}, headers=SSE) as response:
            events = await all_events(response)
    assert events == [("next", {"data": {"feedVersion": 1}}), ("complete", None)]


async def test_the_client_disconnecting_closes_the_subgraph_websocket(
    stack: SubscriptionStack, gateway_url: str
) -> None:
    async with httpx.AsyncClient() as client:
        async with client.stream("POST", gateway_url, json={"query": FOREVER}, headers=SSE) as response:
            async with asyncio.timeout(10):
                first = await anext(read_events(response))
            assert first == ("next", {"data": {"pointsEvents": {"sequence": 1}}})
            upstream = stack.feed.connections[-1]
            assert not upstream.closed.is_set()
    async with asyncio.timeout(10):  # a guard against hanging
        await upstream.closed.wait()


async def test_a_subscription_sent_as_plain_json_is_refused_with_a_typed_error(
    stack: SubscriptionStack, gateway_url: str
) -> None:
    before = len(stack.feed.connections)
    async with httpx.AsyncClient() as client:
        response = await client.post(gateway_url, json={"query": EVENTS})
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "SUBSCRIPTION_TRANSPORT_REQUIRED"
    assert "text/event-stream" in error["message"] and "WebSocket" in error["message"]
    assert len(stack.feed.connections) == before


async def test_an_invalid_token_is_refused_before_any_subgraph_is_contacted(
    stack: SubscriptionStack, gateway_url: str
) -> None:
    before = len(stack.feed.connections)
    headers = {**SSE, "authorization": "Bearer not-a-jwt"}
    async with httpx.AsyncClient() as client:
        response = await client.post(gateway_url, json={"query": EVENTS}, headers=headers)
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert len(stack.feed.connections) == before


async def test_subscriptions_beyond_the_process_limit_are_refused(stack: SubscriptionStack) -> None:
    gateway_url = await stack.serve(ServerSettings(max_subscriptions=1))
    async with httpx.AsyncClient() as client:
        async with client.stream("POST", gateway_url, json={"query": FOREVER}, headers=SSE) as response:
            async with asyncio.timeout(10):
                await anext(read_events(response))  # the one subscription allowed is running
            before = len(stack.feed.connections)
            refused = await client.post(gateway_url, json={"query": FOREVER}, headers=SSE)
            assert refused.status_code == 503
            assert refused.json()["errors"][0]["extensions"] == {"code": "SUBSCRIPTION_LIMIT_EXCEEDED", "limit": 1}
            assert len(stack.feed.connections) == before
            metrics = (await client.get(gateway_url.removesuffix("/graphql") + "/metrics")).text
            assert "gateway_subscriptions_active 1.0" in metrics
