"""A strawberry subgraph with a `Subscription` root, next to the members subgraph of
`strawberry_subgraphs`, for the gateway's subscription tests.

`feed` streams points events whose `member` is an entity the members subgraph resolves (its
name), so an event needs an entity fetch to another subgraph. Strawberry serves
graphql-transport-ws itself, as our services do. `FeedRecorder` wraps the app and notes every
WebSocket connection: the upgrade request's headers, the connection_init payload, and when the
connection ended, so tests can check what the gateway opened and closed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import Any

import strawberry
from starlette.applications import Starlette
from starlette.routing import Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError

from gateway.composition import compose
from gateway.execution.client import SubgraphSettings
from gateway.execution.pipeline import Gateway, PipelineOptions
from gateway.http.app import create_app
from gateway.http.settings import ServerSettings
from gateway.supergraph import load_supergraph
from tests.gateway.kit import strawberry_subgraphs
from tests.gateway.kit.servers import LiveServer


REFUSED = "Bearer refused-by-feed"  # credentials the feed subgraph turns away


@strawberry.federation.type(keys=["id"], name="Member")
class FeedMember:
    id: strawberry.ID


@strawberry.type
class PointsEvent:
    sequence: int
    delta: int
    member: FeedMember | None


@strawberry.type
class FeedQuery:
    @strawberry.field
    def feed_version(self) -> int:
        return 1


@strawberry.type
class FeedSubscription:
    @strawberry.subscription
    async def points_events(
        self, member_id: strawberry.ID, count: int | None = None
    ) -> AsyncGenerator[PointsEvent, None]:
        """`count` events, then the stream ends; without `count` it stays open after one event."""
        for sequence in range(1, (count or 1) + 1):
            yield PointsEvent(sequence=sequence, delta=10 * sequence, member=FeedMember(id=member_id))
        if count is None:
            await asyncio.Event().wait()  # until the subscriber goes away

    @strawberry.subscription
    async def broken_events(self) -> AsyncGenerator[PointsEvent, None]:
        yield PointsEvent(sequence=1, delta=1, member=None)
        raise ValueError("the feed broke")


feed_schema = strawberry.federation.Schema(
    query=FeedQuery, subscription=FeedSubscription, types=[FeedMember], federation_version="2.9"
)


@dataclass
class Connection:
    headers: dict[str, str]
    init_payload: Any = None
    closed: asyncio.Event = field(default_factory=asyncio.Event)


class _FeedView(GraphQL):
    def __init__(self, recorder: FeedRecorder) -> None:
        super().__init__(feed_schema, graphql_ide=None)
        self.recorder = recorder

    async def on_ws_connect(self, context: Any) -> Any:
        params = context.get("connection_params")
        if self.recorder.connections:
            self.recorder.connections[-1].init_payload = params
        if (params or {}).get("headers", {}).get("authorization") == REFUSED:
            raise ConnectionRejectionError()  # as a service refusing a caller does: close 4403
        return await super().on_ws_connect(context)


class FeedRecorder:
    """The feed subgraph's ASGI app, noting each WebSocket connection it serves."""

    def __init__(self) -> None:
        self.connections: list[Connection] = []
        view = _FeedView(self)
        self.app = Starlette(
            routes=[Route("/graphql", view, methods=["GET", "POST"]), WebSocketRoute("/graphql", view)]
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        connection = Connection(headers)
        self.connections.append(connection)
        try:
            await self.app(scope, receive, send)
        finally:
            connection.closed.set()


def supergraph_sdl(urls: dict[str, str]) -> str:
    """The members and feed subgraphs composed (by the gateway's own composer)."""
    sources = {
        "members": (urls["members"], _sdl(strawberry_subgraphs.members_schema)),
        "feed": (urls["feed"], _sdl(feed_schema)),
    }
    return compose(sources).require_supergraph()


def _sdl(schema: strawberry.federation.Schema) -> str:
    return schema.execute_sync("{ _service { sdl } }").data["_service"]["sdl"]  # type: ignore[index]


class SubscriptionStack:
    """members + feed subgraphs and a gateway app in front of them, all served on loopback."""

    def __init__(self) -> None:
        self.feed = FeedRecorder()
        self.servers: dict[str, LiveServer] = {}
        self.gateways: list[LiveServer] = []
        self.supergraph: str | None = None

    async def start(self) -> SubscriptionStack:
        self.servers = {
            "members": await LiveServer(strawberry_subgraphs.app("members")).start(),
            "feed": await LiveServer(self.feed).start(),
        }
        self.supergraph = supergraph_sdl({name: server.url for name, server in self.servers.items()})
        return self

    def gateway(self, urls: dict[str, str] | None = None) -> Gateway:
        assert self.supergraph is not None
        return Gateway(load_supergraph(self.supergraph), PipelineOptions(subgraphs=SubgraphSettings(urls=urls or {})))

    async def serve(self, settings: ServerSettings) -> str:
        """A gateway app with these settings on loopback: its GraphQL URL."""
        server = await LiveServer(create_app(self.gateway(), settings)).start()
        self.gateways.append(server)
        return server.url

    async def stop(self) -> None:
        for server in [*self.gateways, *self.servers.values()]:
            await server.stop()
