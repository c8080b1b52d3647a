"""The ASGI app of a subgraph: GraphQL at /graphql, /health, /ready, plus a service's own routes.

/graphql also takes WebSocket upgrades for subscriptions (graphql-transport-ws only), authenticated
like HTTP requests (`websocket_auth`); the schema's error policy and limits apply to them too.

Start-up resolves the service's database (the embedded server unless configured) and starts the
service's background loops (outbox delivery, scheduled jobs); shutdown stops them and closes pools.
With tracing configured (`shared.telemetry`), each request is a server span in the caller's trace,
named with its GraphQL operation.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import orjson
from opentelemetry import trace
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.unset import UNSET, UnsetType
from strawberry.http import GraphQLRequestData

from shared.auth.tokens import principal_from_authorization_header
from shared.database import Database, dispose_databases, get_database
from shared.database.resolve import database_url_for
from shared.federation.context import Context
from shared.errors import Unauthenticated
from shared.federation.middleware import SubgraphMiddleware
from shared.federation.websocket_auth import authorization_in, denial_payload
from shared.notifications import close_notification_hubs
from shared.request_id import current_request_id
from shared.federation.schema import SubgraphSchema
from shared.http import aclose_http_client
from shared.log_setup import configure_logging
from shared.settings import get_settings
from shared.telemetry import TRACING, flush_tracing, tracing_middleware
from shared.telemetry.graphql import describe_operation, operation_of

log = logging.getLogger("abg.app")

# A background loop gets the service's database and runs until cancelled.
BackgroundLoop = Callable[[Database], Awaitable[None]]


class SubgraphGraphQL(GraphQL):
    def __init__(self, schema: SubgraphSchema, service: "ServiceState", **kwargs: Any) -> None:
        super().__init__(schema, **kwargs)
        self.service = service

    # orjson: several times faster than the standard library both ways, on every request.
    def decode_json(self, data: str | bytes) -> object:
        return orjson.loads(data)

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    async def execute_single(  # type: ignore[override]
        self, request: Any, request_adapter: Any, sub_response: Any, context: Any, root_value: Any,
        request_data: GraphQLRequestData,
    ) -> Any:
        if TRACING.on:  # name the operation on the request's server span
            describe_operation(trace.get_current_span(), *operation_of(request_data.query, request_data.operation_name))
        return await super().execute_single(request, request_adapter, sub_response, context, root_value, request_data)

    async def get_context(self, request: HTTPConnection, response: Any) -> Context:  # type: ignore[override]
        return Context(
            request=request,
            principal=request.state.principal,
            db=self.service.db,
            request_id=current_request_id(),
        )

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object]:  # type: ignore[override]
        """`connection_init`: the token in its payload counts only when the upgrade had none."""
        if context.principal.is_anonymous:
            authorization = authorization_in(context.connection_params)
            try:
                context.principal = principal_from_authorization_header(authorization)
            except Unauthenticated as error:
                raise ConnectionRejectionError(denial_payload(error)) from None
        return UNSET


class ServiceState:
    """What a running subgraph holds: its database, once resolved at start-up."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._db: Database | None = None

    @property
    def db(self) -> Database:
        if self._db is None:
            raise RuntimeError(f"{self.name}: the database is not resolved yet (app not started)")
        return self._db

    async def start(self) -> None:
        self._db = get_database(await database_url_for(self.name))


def create_subgraph_app(
    *,
    service: str,
    schema: SubgraphSchema,
    routes: Sequence[BaseRoute] = (),
    public_routes: Sequence[BaseRoute] = (),
    background: Sequence[BackgroundLoop] = (),
) -> Starlette:
    """`routes` are authenticated by the middleware like /graphql (a bad bearer token is a 401, no
    token is the anonymous principal); `public_routes` authenticate their callers themselves (an
    OAuth token endpoint takes HTTP Basic credentials, say) and get the anonymous principal."""
    settings = get_settings()
    if not logging.getLogger().handlers:  # started by uvicorn rather than our CLI
        configure_logging()
    state = ServiceState(service)
    graphql = SubgraphGraphQL(
        schema,
        state,
        graphql_ide="graphiql" if settings.graphiql_enabled else None,
        allow_queries_via_get=True,
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
    )

    async def health(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "service": service})

    async def ready(_: Request) -> JSONResponse:
        try:
            async with state.db.session() as session:
                await session.exec(text("SELECT 1"))  # type: ignore[call-overload]
        except Exception as error:  # noqa: BLE001 - readiness reports, it does not raise
            return JSONResponse({"status": "unavailable", "reason": type(error).__name__}, status_code=503)
        return JSONResponse({"status": "ready", "service": service})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await state.start()
        tasks = [asyncio.create_task(_supervised(loop, state.db), name=f"{service}:{i}") for i, loop in enumerate(background)]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await close_notification_hubs()
            await aclose_http_client()
            await dispose_databases()
            flush_tracing()

    app = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/health", health),
            Route("/ready", ready),
            *routes,
            *public_routes,
        ],
        lifespan=lifespan,
    )
    app.state.service = state
    app.state.schema = schema
    app.add_middleware(
        SubgraphMiddleware,
        max_body_bytes=settings.max_body_bytes,
        authenticate_paths=("/graphql", *(getattr(r, "path", "") for r in routes)),
    )
    for layer in tracing_middleware(service, exclude_paths=("/health", "/ready")):
        # added last, so outermost: the server span covers what the middleware refuses (401, 413)
        app.add_middleware(layer.cls, *layer.args, **layer.kwargs)
    return app


async def _supervised(loop: BackgroundLoop, db: Database) -> None:
    """Keeps a background loop alive: an unexpected error is logged and the loop restarted."""
    while True:
        try:
            await loop(db)
            return
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("background loop %s failed; restarting in 1 s", getattr(loop, "__name__", loop))
            await asyncio.sleep(1)
