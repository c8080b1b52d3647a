"""Subscriptions through the gateway over graphql-transport-ws: a real strawberry subgraph
streams events over its own WebSocket, the gateway joins each with the members subgraph and
passes it on to a WebSocket client."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from gateway.execution.pipeline import GraphQLRequest
from gateway.http.settings import ServerSettings
from gateway.serving.reload import ReloadableGateway
from shared.auth.tokens import mint_token
from tests.gateway.kit.strawberry_subscriptions import REFUSED, SubscriptionStack

pytestmark = pytest.mark.timeout(60)

EVENTS = 'subscription E($n: Int) { pointsEvents(memberId: "m1", count: $n) { sequence delta member { name } } }'
FOREVER = 'subscription { pointsEvents(memberId: "m2") { sequence member { name } } }'
TOKEN = "Bearer " + mint_token("member", "3f1c2e8a-0000-4000-8000-000000000001")


@pytest.fixture(scope="module")
async def gateway_url(stack: SubscriptionStack) -> str:
    return await stack.serve(ServerSettings(verify_tokens=True, max_subscriptions_per_connection=2))


def ws_url(http_url: str) -> str:
    return "ws://" + http_url.removeprefix("http://")


class Client:
    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket

    async def send(self, message: dict[str, Any]) -> None:
        await self.socket.send(orjson.dumps(message).decode())

    async def receive(self) -> dict[str, Any]:
        async with asyncio.timeout(10):  # a guard against hanging, not a timing assertion
            return orjson.loads(await self.socket.recv())

    async def init(self, payload: dict[str, Any] | None = None) -> None:
        await self.send({"type": "connection_init", **({"payload": payload} if payload is not None else {})})
        assert await self.receive() == {"type": "connection_ack"}

    async def subscribe(self, operation_id: str, query: str, variables: dict[str, Any] | None = None) -> None:
        await self.send({"id": operation_id, "type": "subscribe", "payload": {"query": query, "variables": variables}})

    async def until_complete(self, operation_id: str) -> list[dict[str, Any]]:
        payloads = []
        while True:
            message = await self.receive()
            assert message["id"] == operation_id
            if message["type"] == "complete":
                return payloads
            assert message["type"] == "next", message
            payloads.append(message["payload"])

    async def close_code(self) -> int | None:
        with pytest.raises(ConnectionClosed) as closed:
            await self.receive()
        return closed.value.rcvd.code if closed.value.rcvd else None


async def open_client(url: str, headers: dict[str, str] | None = None, protocol: bool = True) -> Client:
    socket = await connect(
        ws_url(url), subprotocols=["graphql-transport-ws"] if protocol else None, additional_headers=headers or {}
    )
    return Client(socket)


async def wait_closed(connection: Any) -> None:
    async with asyncio.timeout(10):  # a guard against hanging
        await connection.closed.wait()


async def test_events_arrive_in_order_joined_with_another_subgraph_and_the_subgraph_ends_the_stream(
    stack: SubscriptionStack, gateway_url: str
) -> None:
    client = await open_client(gateway_url, {"authorization": TOKEN})
    await client.init()
    await client.subscribe("s1", EVENTS, {"n": 3})
    assert await client.until_complete("s1") == [
        {"data": {"pointsEvents": {"sequence": 1, "delta": 10, "member": {"name": "Ada"}}}},
        {"data": {"pointsEvents": {"sequence": 2, "delta": 20, "member": {"name": "Ada"}}}},
        {"data": {"pointsEvents": {"sequence": 3, "delta": 30, "member": {"name": "Ada"}}}},
    ]
    upstream = stack.feed.connections[-1]
    await wait_closed(upstream)  # the gateway let go of the subgraph's socket once it completed
    # the subgraph got the client's token on the upgrade request and in connection_init
    assert upstream.headers["authorization"] == TOKEN
    assert upstream.headers["sec-websocket-protocol"] == "graphql-transport-ws"
    assert upstream.init_payload["headers"]["authorization"] == TOKEN
    assert upstream.headers["x-request-id"]
    # the socket stays usable for more operations
    await client.send({"type": "ping"})
    assert await client.receive() == {"type": "pong"}
    await client.socket.close()


async def test_a_token_in_connection_init_reaches_the_subgraph_as_a_header(
    stack: SubscriptionStack, gateway_url: str
) -> None:
    client = await open_client(gateway_url)
    await client.init({"authorization": TOKEN})
    await client.subscribe("1", EVENTS, {"n": 1})
    assert len(await client.until_complete("1")) == 1
    assert stack.feed.connections[-1].headers["authorization"] == TOKEN
    await client.socket.close()


async def test_unsubscribing_closes_the_subgraph_websocket(stack: SubscriptionStack, gateway_url: str) -> None:
    client = await open_client(gateway_url)
    await client.init()
    await client.subscribe("forever", FOREVER)
    first = await client.receive()
    event = {"data": {"pointsEvents": {"sequence": 1, "member": {"name": "Grace"}}}}
    assert first == {"id": "forever", "type": "next", "payload": event}
    upstream = stack.feed.connections[-1]
    assert not upstream.closed.is_set()
    await client.send({"id": "forever", "type": "complete"})
    await wait_closed(upstream)
    await client.send({"type": "ping"})  # only the subscription ended, not the connection
    assert await client.receive() == {"type": "pong"}
    await client.socket.close()


async def test_a_client_going_away_closes_the_subgraph_websocket(stack: SubscriptionStack, gateway_url: str) -> None:
    client = await open_client(gateway_url)
    await client.init()
    await client.subscribe("forever", FOREVER)
    assert (await client.receive())["type"] == "next"
    upstream = stack.feed.connections[-1]
    await client.socket.close()
    await wait_closed(upstream)


async def test_a_failing_entity_fetch_gives_partial_events_and_the_stream_goes_on(gateway_url: str) -> None:
    client = await open_client(gateway_url)
    await client.init()
    query = 'subscription { pointsEvents(memberId: "nobody", count: 2) { sequence member { name } } }'
    await client.subscribe("1", query)
    payloads = await client.until_complete("1")
    assert [p["data"] for p in payloads] == [
        {"pointsEvents": {"sequence": 1, "member": None}},
        {"pointsEvents": {"sequence": 2, "member": None}},
    ]
    for payload in payloads:
        assert payload["errors"][0]["path"] == ["pointsEvents", "member"]
        assert payload["errors"][0]["extensions"]["serviceName"] == "members"
    await client.socket.close()


async def test_an_error_from_the_subgraph_stream_reaches_the_client(gateway_url: str) -> None:
    client = await open_client(gateway_url)
    await client.init()
    await client.subscribe("1", "subscription { brokenEvents { sequence } }")
    first, last = await client.until_complete("1")
    assert first == {"data": {"brokenEvents": {"sequence": 1}}}
    assert last["data"] is None
    assert last["errors"][0]["message"] == "the feed broke"
    assert last["errors"][0]["extensions"]["serviceName"] == "feed"
    await client.socket.close()


async def test_an_unreachable_subgraph_ends_the_subscription_with_a_typed_error(stack: SubscriptionStack) -> None:
    gateway = stack.gateway({"feed": "http://127.0.0.1:9/graphql"})  # nothing listens on the discard port
    result = await gateway.execute(GraphQLRequest(query=EVENTS, variables={"n": 1}, streaming=True))
    assert result.events is not None
    payloads = [payload async for payload in result.events]
    assert len(payloads) == 1
    assert payloads[0]["data"] is None
    assert payloads[0]["errors"][0]["extensions"] == {"code": "SUBGRAPH_UNREACHABLE", "serviceName": "feed"}
    await gateway.aclose()


async def test_queries_and_mutations_are_answered_over_the_socket_too(gateway_url: str) -> None:
    client = await open_client(gateway_url)
    await client.init()
    await client.subscribe("q", '{ member(id: "m1") { name } feedVersion }')
    assert await client.until_complete("q") == [{"data": {"member": {"name": "Ada"}, "feedVersion": 1}}]
    await client.socket.close()


async def test_an_invalid_document_gets_an_error_message(stack: SubscriptionStack, gateway_url: str) -> None:
    before = len(stack.feed.connections)
    client = await open_client(gateway_url)
    await client.init()
    await client.subscribe("bad", "subscription { pointsEvents(memberId: 1) { nope } }")
    message = await client.receive()
    assert message["type"] == "error" and message["id"] == "bad"
    assert {e["extensions"]["code"] for e in message["payload"]} == {"GRAPHQL_VALIDATION_FAILED"}
    assert len(stack.feed.connections) == before
    await client.socket.close()


@pytest.mark.parametrize("where", ["upgrade", "init"])
async def test_an_invalid_token_is_refused_before_any_subgraph_is_contacted(
    stack: SubscriptionStack, gateway_url: str, where: str
) -> None:
    before = len(stack.feed.connections)
    client = await open_client(gateway_url, {"authorization": "Bearer not-a-jwt"} if where == "upgrade" else None)
    payload = {"authorization": "Bearer not-a-jwt"} if where == "init" else {}
    await client.send({"type": "connection_init", "payload": payload})
    assert await client.close_code() == 4403
    assert len(stack.feed.connections) == before


async def test_protocol_faults_close_with_the_protocols_codes(gateway_url: str) -> None:
    client = await open_client(gateway_url)
    await client.subscribe("1", EVENTS)  # before connection_init
    assert await client.close_code() == 4401

    client = await open_client(gateway_url)
    await client.socket.send("not json")
    assert await client.close_code() == 4400

    client = await open_client(gateway_url)
    await client.init()
    await client.send({"type": "subscribe", "payload": {"query": EVENTS}})  # no id
    assert await client.close_code() == 4400

    client = await open_client(gateway_url)
    await client.init()
    await client.send({"type": "connection_init"})
    assert await client.close_code() == 4429

    client = await open_client(gateway_url)
    await client.init()
    await client.subscribe("same", FOREVER)
    assert (await client.receive())["type"] == "next"
    await client.subscribe("same", FOREVER)
    assert await client.close_code() == 4409

    client = await open_client(gateway_url, protocol=False)
    assert await client.close_code() == 4406


async def test_a_connection_that_never_initialises_is_closed(stack: SubscriptionStack) -> None:
    url = await stack.serve(ServerSettings(subscription_init_timeout_seconds=0.05))
    client = await open_client(url)
    assert await client.close_code() == 4408


async def test_subscriptions_beyond_the_per_connection_limit_are_refused(
    stack: SubscriptionStack, gateway_url: str
) -> None:
    client = await open_client(gateway_url)
    await client.init()
    for operation_id in ("a", "b"):  # the fixture's limit is 2
        await client.subscribe(operation_id, FOREVER)
        assert (await client.receive())["type"] == "next"
    before = len(stack.feed.connections)
    await client.subscribe("c", FOREVER)
    message = await client.receive()
    assert message["type"] == "error" and message["id"] == "c"
    assert message["payload"][0]["extensions"] == {"code": "SUBSCRIPTION_LIMIT_EXCEEDED", "limit": 2}
    assert len(stack.feed.connections) == before  # no subgraph socket was opened for it
    # ending one makes room again
    await client.send({"id": "a", "type": "complete"})
    await client.subscribe("d", EVENTS, {"n": 1})
    assert len(await client.until_complete("d")) == 1
    await client.socket.close()


async def test_a_reload_keeps_the_old_gateway_open_until_its_subscriptions_end(stack: SubscriptionStack) -> None:
    old = stack.gateway()
    closed = asyncio.Event()
    close = old.aclose

    async def recording_close() -> None:
        closed.set()
        await close()

    old.aclose = recording_close  # type: ignore[method-assign]
    reloadable = ReloadableGateway(old)
    result = await reloadable.execute(GraphQLRequest(query=FOREVER, streaming=True))
    assert result.events is not None
    first = await anext(result.events)
    assert first["data"]["pointsEvents"]["member"] == {"name": "Grace"}
    reloadable.switch(stack.gateway())
    await asyncio.sleep(0)
    assert not closed.is_set()  # its subscription still runs entity fetches on it
    await result.events.aclose()  # type: ignore[attr-defined]
    async with asyncio.timeout(10):  # a guard against hanging
        await closed.wait()
    await reloadable.aclose()


def test_the_plan_subscribes_to_the_owning_subgraph_and_joins_entities_per_event(stack: SubscriptionStack) -> None:
    plan = stack.gateway().plan(EVENTS)
    assert plan.kind == "subscription"
    root, member = plan.fetches
    assert (root.subgraph, root.operation_kind) == ("feed", "subscription")
    assert root.document == (
        "subscription E__feed__0($n: Int) { pointsEvents(memberId: \"m1\", count: $n) "
        "{ sequence delta member { id } } }"
    )
    assert (member.subgraph, member.depends_on) == ("members", (0,))
    assert member.parts[0].merge_path == ("pointsEvents", "member")


async def test_a_subgraph_refusing_the_credentials_ends_the_subscription_with_forbidden(
    stack: SubscriptionStack,
) -> None:
    gateway = stack.gateway()
    request = GraphQLRequest(query=EVENTS, streaming=True, forward_headers={"authorization": REFUSED})
    result = await gateway.execute(request)
    assert result.events is not None
    payloads = [payload async for payload in result.events]
    assert [p["errors"][0]["extensions"] for p in payloads] == [{"code": "FORBIDDEN", "serviceName": "feed"}]
    await gateway.aclose()
