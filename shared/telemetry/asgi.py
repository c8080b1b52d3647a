"""A server span around every HTTP request (OpenTelemetry's HTTP server conventions).

Its parent is the caller's `traceparent` when there is one, so a service's spans join the
caller's trace. Installed only while tracing is on: without it a request pays nothing. Health
checks and the like (`exclude_paths`) make no spans: they would drown the traces of requests.
"""

from __future__ import annotations

from collections.abc import Iterable

from opentelemetry.trace import SpanKind, StatusCode
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.telemetry.propagation import extract, trace_headers_in
from shared.telemetry.setup import configure_tracing
from shared.telemetry.switch import TRACING


def tracing_middleware(service_name: str, *, exclude_paths: Iterable[str] = ()) -> list[Middleware]:
    """For an app's middleware stack (outermost): the server span, when tracing is configured
    (which this turns on for the process); nothing at all otherwise."""
    if not configure_tracing(service_name):
        return []
    return [Middleware(ServerSpanMiddleware, exclude_paths=tuple(exclude_paths))]


class ServerSpanMiddleware:
    def __init__(self, app: ASGIApp, *, exclude_paths: Iterable[str] = ()) -> None:
        self.app = app
        self.exclude_paths = frozenset(exclude_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        tracer = TRACING.tracer
        if tracer is None or scope["type"] != "http" or scope["path"] in self.exclude_paths:
            await self.app(scope, receive, send)
            return
        raw = scope.get("headers") or ()
        method = scope["method"]
        attributes: dict[str, str | int] = {
            "http.request.method": method,
            "url.path": scope["path"],
            "url.scheme": scope.get("scheme", "http"),
            "network.protocol.version": scope.get("http_version", "1.1"),
        }
        server = scope.get("server")
        if server:
            attributes["server.address"], attributes["server.port"] = server[0], server[1]
        client = scope.get("client")
        if client:
            attributes["client.address"] = client[0]
        for name, value in raw:
            if name == b"user-agent":
                attributes["user_agent.original"] = value.decode("latin-1")
        parent = extract(trace_headers_in(raw))
        with tracer.start_as_current_span(method, context=parent, kind=SpanKind.SERVER, attributes=attributes) as span:

            async def send_with_status(message: Message) -> None:
                if message["type"] == "http.response.start":
                    status = message["status"]
                    span.set_attribute("http.response.status_code", status)
                    if status >= 500:  # a 4xx is the client's fault, not the server's
                        span.set_attribute("error.type", str(status))
                        span.set_status(StatusCode.ERROR)
                await send(message)

            try:
                await self.app(scope, receive, send_with_status)
            finally:
                # the router has picked a route by now: name the span after its template
                route = getattr(scope.get("route"), "path", None)
                if route:
                    span.set_attribute("http.route", route)
                    span.update_name(f"{method} {route}")
