"""GraphQL over HTTP for the gateway (Starlette).

POST with a JSON body or GET with query parameters on one path, `/health` for load balancers.
Request ids come from the client's `x-request-id` or are made up, and show in logs, in the
response headers and in masked errors. Authentication, trusted documents or metrics can be
added as `RequestHook`s (run before execution, may answer instead) or as ASGI middleware.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from shared.telemetry import trace_headers_in, tracing_middleware

from ..execution.pipeline import Gateway, GraphQLRequest, GraphQLResponse
from .explorer import explorer_routes
from .incremental import incremental_response
from .limits import install_limits
from .metrics import GatewayMetrics, bearer_protected, outcome_of
from .ratelimit import TokenBuckets, rate_limit_hook
from .settings import ServerSettings
from .sse import EVENT_STREAM, sse_single, sse_stream
from .subscription_slots import SubscriptionSlots
from .trusted import TrustedDocuments, trusted_documents_hook
from .websocket import GraphQLWebSocket

log = logging.getLogger("gateway.http")

RequestHook = Callable[[Request, GraphQLRequest], Awaitable[Response | None]]

_JSON = "application/json"
CLIENT_IP_HEADER = "x-client-ip"
TIMEOUT_HEADER = "x-request-timeout-ms"  # how long the client will wait (it may only shorten ours)
_GRAPHQL_RESPONSE = "application/graphql-response+json"
_MULTIPART = "multipart/mixed"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def _json(body: Any, status: int = 200, media_type: str = _JSON, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type=media_type, headers=headers)


def _error_body(message: str, code: str) -> dict[str, Any]:
    return {"errors": [{"message": message, "extensions": {"code": code}}]}


class BodyTooLarge(Exception):
    pass


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


class RequestIdMiddleware:
    """Gives every request an id (the client's, when it sent a sane one) and echoes it back."""

    def __init__(self, app: ASGIApp, header: str = "x-request-id") -> None:
        self.app = app
        self.header = header.lower().encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers") or ()).get(self.header, b"").decode("latin-1")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + [(self.header, request_id.encode())]
            await send(message)

        await self.app(scope, receive, send_with_id)


class GraphQLEndpoint:
    def __init__(
        self,
        gateway: Gateway,
        settings: ServerSettings,
        hooks: Sequence[RequestHook],
        metrics: GatewayMetrics | None = None,
        slots: SubscriptionSlots | None = None,
    ) -> None:
        self.gateway = gateway
        self.settings = settings
        self.hooks = list(hooks)
        self.metrics = metrics
        self.slots = slots or SubscriptionSlots(settings.max_subscriptions)

    async def handle(self, request: Request) -> Response:
        if self.metrics is None:
            return (await self._handle(request, time.perf_counter()))[0]
        started = time.perf_counter()
        self.metrics.in_flight.inc()
        operation_type, outcome = None, "error"  # what an exception escaping the handler means
        try:
            response, operation_type, outcome = await self._handle(request, started)
            return response
        finally:
            self.metrics.in_flight.dec()
            self.metrics.request(operation_type, outcome, time.perf_counter() - started)

    async def _handle(self, request: Request, started: float) -> tuple[Response, str | None, str]:
        """The response, the operation type (when known) and the outcome, for metrics."""
        request_id = getattr(request.state, "request_id", None) or uuid.uuid4().hex
        modern = _GRAPHQL_RESPONSE in request.headers.get("accept", "")
        media_type = _GRAPHQL_RESPONSE if modern else _JSON
        parsed = await self.parse(request, request_id)
        if isinstance(parsed, Response):
            return parsed, None, "rejected"
        parsed.streaming = EVENT_STREAM in request.headers.get("accept", "")
        for hook in self.hooks:
            answer = await hook(request, parsed)
            if answer is not None:
                return answer, None, "rejected"
        result = await self.gateway.execute(parsed)
        status = result.status
        # With plain application/json, GraphQL errors travel with 200 (GraphQL over HTTP, legacy
        # clients); transport problems keep their status either way.
        if not modern and status == 400 and not result.malformed:
            status = 200
        log.info(
            "request %s op=%s status=%s subgraph_requests=%d %.1fms",
            request_id,
            parsed.operation_name or "-",
            result.status,
            result.subgraph_requests,
            (time.perf_counter() - started) * 1000,
        )
        if parsed.streaming and (result.events is not None or result.status == 200):
            return self.event_stream(result, request_id), result.operation_type, "ok"
        if result.subsequent is not None:
            return incremental_response(result.body, result.subsequent), result.operation_type, "ok"
        return _json(result.body, status, media_type), result.operation_type, outcome_of(result.status, result.body)

    def event_stream(self, result: GraphQLResponse, request_id: str) -> Response:
        """Server-sent events: the subscription's payloads, or a query's one answer."""
        if result.events is None:
            return sse_single(result.body)
        refused = self.slots.acquire()
        if refused is not None:
            return _json({"errors": [refused]}, 503)  # the generator never started: no subgraph was called
        return sse_stream(result.events, self.slots.release, request_id)

    def forwarded(self, request: HTTPConnection, request_id: str) -> dict[str, str]:
        """The headers every subgraph request of this client request carries."""
        forward = {
            name: value for name, value in request.headers.items() if name.lower() in self.settings.forward_headers
        }
        forward["x-request-id"] = request_id
        forward.update(trace_headers_in(request.headers.raw))  # passed on as they are unless tracing is on
        # The client's address as the gateway saw it, for the subgraphs' abuse rules. Whatever the
        # client sent as x-client-ip goes, so nobody can pose as another address.
        forward.pop(CLIENT_IP_HEADER, None)
        if request.client is not None and request.client.host:
            forward[CLIENT_IP_HEADER] = request.client.host
        forward.pop(TIMEOUT_HEADER, None)  # the executor tells each subgraph what remains
        return forward

    async def parse(self, request: Request, request_id: str) -> GraphQLRequest | Response:
        forward = self.forwarded(request, request_id)
        deadline = self._deadline(request.headers.get(TIMEOUT_HEADER))
        if request.method == "GET":
            params = request.query_params
            try:
                variables = orjson.loads(params["variables"]) if params.get("variables") else None
                extensions = orjson.loads(params["extensions"]) if params.get("extensions") else None
            except orjson.JSONDecodeError:
                return _json(_error_body("variables and extensions must be JSON.", "BAD_REQUEST"), 400)
            return GraphQLRequest(
                query=params.get("query"),
                document_id=params.get("documentId") or None,
                operation_name=params.get("operationName") or None,
                variables=variables if isinstance(variables, dict) else None,
                extensions=extensions if isinstance(extensions, dict) else None,
                method="GET",
                forward_headers=forward,
                request_id=request_id,
                deadline=deadline,
                incremental=_MULTIPART in request.headers.get("accept", ""),
            )
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type not in (_JSON, _GRAPHQL_RESPONSE, "application/graphql+json"):
            return _json(_error_body("Send GraphQL as application/json.", "UNSUPPORTED_MEDIA_TYPE"), 415)
        try:
            raw = await _read_body(request, self.settings.max_body_bytes)
        except BodyTooLarge:
            return _json(
                _error_body(f"Request body exceeds {self.settings.max_body_bytes} bytes.", "PAYLOAD_TOO_LARGE"), 413
            )
        try:
            payload = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return _json(_error_body("The request body is not valid JSON.", "BAD_REQUEST"), 400)
        if not isinstance(payload, dict):
            return _json(_error_body("Send one GraphQL request as a JSON object.", "BAD_REQUEST"), 400)
        variables = payload.get("variables")
        if variables is not None and not isinstance(variables, dict):
            return _json(_error_body("variables must be a JSON object.", "BAD_REQUEST"), 400)
        operation_name = payload.get("operationName")
        document_id = payload.get("documentId")
        if document_id is not None and (not isinstance(document_id, str) or not document_id):
            return _json(_error_body("documentId must be a non-empty string.", "BAD_REQUEST"), 400)
        return GraphQLRequest(
            query=payload.get("query"),
            document_id=document_id,
            operation_name=operation_name if isinstance(operation_name, str) and operation_name else None,
            variables=variables,
            extensions=payload.get("extensions") if isinstance(payload.get("extensions"), dict) else None,
            method="POST",
            forward_headers=forward,
            request_id=request_id,
            deadline=deadline,
            incremental=_MULTIPART in request.headers.get("accept", ""),
        )

    def _deadline(self, asked: str | None) -> float | None:
        """When this request's time runs out: the gateway's request timeout, or the client's own
        x-request-timeout-ms when that is shorter (a malformed one is ignored)."""
        timeout = self.settings.request_timeout_seconds
        if asked is not None and asked.isdigit() and len(asked) <= 9:
            timeout = int(asked) / 1000 if timeout is None else min(timeout, int(asked) / 1000)
        return None if timeout is None else time.monotonic() + timeout


async def _no_document_ids(request: Request, graphql: GraphQLRequest) -> Response | None:
    if graphql.document_id is not None or "persistedQuery" in (graphql.extensions or {}):
        return _json(
            _error_body("This gateway has no trusted documents: send the query itself.", "PERSISTED_QUERY_NOT_SUPPORTED"),
            400,
        )
    return None


async def _health(request: Request) -> Response:
    return _json({"status": "ok"})


def create_app(
    gateway: Gateway,
    settings: ServerSettings | None = None,
    hooks: Sequence[RequestHook] = (),
    middleware: Sequence[Middleware] = (),
    metrics: GatewayMetrics | None = None,
) -> Starlette:
    """The gateway's ASGI app. With `settings.metrics` on, Prometheus metrics are kept (in
    `metrics`, or a registry of the app's own) and served at `settings.metrics_path`."""
    settings = settings or ServerSettings()
    if settings.metrics and metrics is None:
        metrics = GatewayMetrics()
    if metrics is not None:
        gateway.observe(metrics)
    limits = settings.limits
    install_limits(gateway, limits)
    gateway.options.introspection = settings.introspection
    gateway.options.suggestions = settings.suggestions
    gateway.options.max_tokens = limits.max_tokens
    # order: who is asking (401), how often (429), which document (trusted documents), the caller's hooks
    if settings.trusted_documents:
        store = TrustedDocuments.from_file(settings.trusted_documents)
        hooks = [trusted_documents_hook(store, settings.trusted_documents_mode), *hooks]
        log.info("%d trusted documents, mode %s", len(store), settings.trusted_documents_mode)
    else:
        hooks = [_no_document_ids, *hooks]
    if settings.rate_limit_per_second:  # after the token check, which names the caller
        buckets = TokenBuckets(settings.rate_limit_per_second, settings.rate_limit_burst)
        hooks = [rate_limit_hook(buckets), *hooks]
    if settings.verify_tokens:
        from .auth import verify_bearer_token

        hooks = [verify_bearer_token, *hooks]
    slots = SubscriptionSlots(settings.max_subscriptions, metrics.subscriptions if metrics is not None else None)
    endpoint = GraphQLEndpoint(gateway, settings, hooks, metrics, slots)
    websocket = GraphQLWebSocket(
        gateway,
        endpoint,
        slots,  # one count for both transports
        verify_tokens=settings.verify_tokens,
        max_per_connection=settings.max_subscriptions_per_connection,
        init_timeout_seconds=settings.subscription_init_timeout_seconds,
    )
    stack = [
        *tracing_middleware("gateway", exclude_paths=("/health", "/healthcheck", settings.metrics_path)),
        Middleware(RequestIdMiddleware, header=settings.request_id_header),
    ]
    if settings.cors_origins:
        stack.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.cors_origins),
                allow_methods=["GET", "POST", "OPTIONS"],
                allow_headers=["*"],
                allow_credentials=settings.cors_allow_credentials,
                expose_headers=[settings.request_id_header],
            )
        )
    stack.extend(middleware)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await gateway.aclose()

    routes = [
        # a bound method, so Starlette treats it as a request handler, not an ASGI app
        Route(settings.graphql_path, endpoint.handle, methods=["GET", "POST"]),
        WebSocketRoute(settings.graphql_path, websocket.handle),  # graphql-transport-ws
        Route("/health", _health, methods=["GET"]),
        Route("/healthcheck", _health, methods=["GET"]),
    ]
    if metrics is not None and settings.metrics:
        endpoint_of_metrics = bearer_protected(metrics.endpoint, settings.metrics_token)
        routes.append(Route(settings.metrics_path, endpoint_of_metrics, methods=["GET"]))
    if settings.explorer:
        routes.extend(explorer_routes(settings.graphql_path, settings.explorer_path))
    return Starlette(
        routes=routes,
        middleware=stack,
        lifespan=lifespan,
    )


__all__ = ["BodyTooLarge", "GraphQLResponse", "RequestHook", "create_app"]
