"""Subscriptions on the subgraph app factory over a real WebSocket (uvicorn in this process):
graphql-transport-ws at /graphql, the principal from the upgrade's header or connection_init,
the error policy on each result, and HTTP left as it was."""

from __future__ import annotations

import itertools
from collections.abc import AsyncGenerator, AsyncIterator

import httpx
import pytest
import strawberry
import websockets

from live_services import serve_in_process
from shared.auth.principals import require_member
from shared.auth.tokens import mint_token
from shared.errors import InsufficientPoints
from shared.federation import Info, build_schema, create_subgraph_app

from tests.shared.ws_client import bearer, connect

MEMBER = "0b7f5d0e-5a51-4d0e-9d3c-7c1d8d1f0a01"
reads = itertools.count(1)


@strawberry.type
class Reading:
    @strawberry.field
    async def value(self, info: Info) -> int:
        async def load(keys: list[str]) -> list[int]:
            return [next(reads) for _ in keys]

        return await info.context.loader("reading", load).load("the-key")


@strawberry.type
class Query:
    @strawberry.field
    def hello(self, info: Info) -> str:
        return f"hello {info.context.principal.kind.value}"


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def who(self, info: Info) -> AsyncGenerator[str, None]:
        principal = info.context.principal
        yield f"{principal.kind.value} {principal.subject}"

    @strawberry.subscription
    async def member_only(self, info: Info) -> AsyncGenerator[str, None]:
        yield str(require_member(info.context.principal))

    @strawberry.subscription
    async def readings(self) -> AsyncGenerator[Reading, None]:
        yield Reading()
        yield Reading()

    @strawberry.subscription
    async def typed_failure(self) -> AsyncGenerator[int, None]:
        raise InsufficientPoints("not enough points", needed=5)
        yield 0  # pragma: no cover - makes this a generator

    @strawberry.subscription
    async def crash(self) -> AsyncGenerator[int, None]:
        raise RuntimeError("database password is hunter2")
        yield 0  # pragma: no cover


@pytest.fixture
async def url(database_url: str) -> AsyncIterator[str]:
    app = create_subgraph_app(service="members", schema=build_schema(query=Query, subscription=Subscription))
    async with serve_in_process(app) as found:
        yield found


async def test_the_principal_comes_from_the_upgrade_request(url: str) -> None:
    async with connect(url, headers=bearer(mint_token("member", MEMBER))) as ws:
        assert (await ws.init())["type"] == "connection_ack"
        # connection_init's token does not override the header's
        op = await ws.subscribe("subscription { who }")
        assert await ws.next_data(op) == {"who": f"member {MEMBER}"}
        assert (await ws.receive(op))["type"] == "complete"


@pytest.mark.parametrize("payload", [
    lambda token: {"headers": {"Authorization": f"Bearer {token}"}},
    lambda token: {"authorization": f"Bearer {token}"},
])
async def test_without_a_header_the_token_may_come_in_connection_init(url: str, payload) -> None:  # noqa: ANN001
    async with connect(url) as ws:
        await ws.init(payload(mint_token("member", MEMBER)))
        op = await ws.subscribe("subscription { memberOnly }")
        assert await ws.next_data(op) == {"memberOnly": MEMBER}


async def test_the_header_wins_over_connection_init(url: str) -> None:
    staff = mint_token("staff", "ops-1", roles=["operator"])
    async with connect(url, headers=bearer(staff)) as ws:
        await ws.init({"headers": {"authorization": f"Bearer {mint_token('member', MEMBER)}"}})
        op = await ws.subscribe("subscription { who }")
        assert await ws.next_data(op) == {"who": "staff ops-1"}


async def test_unauthenticated_subscriptions_to_member_data_are_refused_typed(url: str) -> None:
    async with connect(url) as ws:
        await ws.init()
        op = await ws.subscribe("subscription { memberOnly }")
        message = await ws.receive(op)
        assert message["type"] == "next" and message["payload"]["data"] is None, message
        assert [e["extensions"]["code"] for e in message["payload"]["errors"]] == ["UNAUTHENTICATED"]


async def test_a_bad_token_on_the_upgrade_is_refused_with_401(url: str) -> None:
    with pytest.raises(websockets.InvalidStatus) as refused:
        async with connect(url, headers={"authorization": "Bearer not-a-jwt"}):
            pass
    assert refused.value.response.status_code == 401
    assert b"UNAUTHENTICATED" in refused.value.response.body


async def test_a_bad_token_in_connection_init_closes_the_socket(url: str) -> None:
    async with connect(url) as ws:
        with pytest.raises(ConnectionError, match="4403"):
            await ws.init({"authorization": "Bearer not-a-jwt"})


async def test_errors_keep_the_error_policy(url: str) -> None:
    async with connect(url) as ws:
        await ws.init()
        typed = await ws.receive(await ws.subscribe("subscription { typedFailure }"))
        (error,) = typed["payload"]["errors"]
        assert error["extensions"] == {"code": "INSUFFICIENT_POINTS", "needed": 5}
        crashed = await ws.receive(await ws.subscribe("subscription { crash }"))
        (error,) = crashed["payload"]["errors"]
        assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR" and "hunter2" not in error["message"]


async def test_each_event_reads_afresh_through_the_connections_dataloaders(url: str) -> None:
    async with connect(url) as ws:
        await ws.init()
        op = await ws.subscribe("subscription { readings { value } }")
        first, second = (await ws.next_data(op))["readings"]["value"], (await ws.next_data(op))["readings"]["value"]
        assert second == first + 1  # not the first event's cached answer


async def test_http_still_answers_beside_websockets(url: str) -> None:
    async with httpx.AsyncClient() as client:
        body = (await client.post(url, json={"query": "{ hello }"})).json()
        assert body == {"data": {"hello": "hello anonymous"}}
        refused = await client.post(url, json={"query": "{ hello }"}, headers={"authorization": "Bearer nope"})
        assert refused.status_code == 401


async def test_the_subscription_type_is_in_the_sdl(url: str) -> None:
    service = mint_token("service", "gateway")
    async with httpx.AsyncClient() as client:
        body = (await client.post(url, json={"query": "{ _service { sdl } }"}, headers=bearer(service))).json()
    assert "type Subscription" in body["data"]["_service"]["sdl"]
