"""ASGI middleware in front of every subgraph: request id, deadline, body size limit, authentication.
WebSocket upgrades (subscriptions) get a request id and are authenticated the same way.

Authentication happens here, before GraphQL: a request with a bad token is answered 401 with a
typed error and no resolver runs. The principal is left in `scope["state"]` for the context. The
caller's `x-request-timeout-ms` starts the request's deadline (`shared.deadline`). A database fault
escaping a route that is not GraphQL (which types its own) is answered with its typed error.
With tracing off, the caller's trace headers are kept for this request's calls to other services
(`shared.telemetry.pass_through`).
"""

from __future__ import annotations

import logging

import orjson
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared import deadline
from shared.auth.principals import ANONYMOUS
from shared.auth.tokens import principal_from_authorization_header
from shared.database import faults
from shared.errors import DomainError, PayloadTooLarge, ServiceUnavailable, Unauthenticated
from shared.federation.websocket_auth import deny_upgrade
from shared.request_id import HEADER, pick_request_id, request_id_var
from shared.telemetry import end_pass_through, pass_through

log = logging.getLogger("abg.http")


def error_body(error: DomainError) -> bytes:
    return orjson.dumps({"data": None, "errors": [{"message": error.message, "extensions": error.as_extensions()}]})


class SubgraphMiddleware:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int, authenticate_paths: tuple[str, ...]) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.authenticate_paths = authenticate_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        request_id = pick_request_id(headers.get(HEADER))
        token = request_id_var.set(request_id)
        clock = deadline.begin_request(deadline.parse_timeout_ms(headers.get(deadline.HEADER)))
        trace_headers = pass_through(headers.raw)
        try:
            await self._handle(scope, receive, send, headers, request_id)
        finally:
            end_pass_through(trace_headers)
            deadline.end_request(clock)
            request_id_var.reset(token)

    async def _handle(self, scope: Scope, receive: Receive, send: Send, headers: Headers, request_id: str) -> None:
        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (HEADER.encode(), request_id.encode())]
            await send(message)

        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body_bytes):
            await _respond(send_with_id, 413, error_body(self._too_large()))
            return

        state = scope.setdefault("state", {})
        state["principal"] = ANONYMOUS
        if scope["path"] in self.authenticate_paths:
            try:
                state["principal"] = principal_from_authorization_header(headers.get("authorization"))
            except Unauthenticated as error:
                await _respond(send_with_id, 401, error_body(error), www_authenticate=True)
                return

        started = False

        async def send_tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send_with_id(message)

        try:
            await self.app(scope, _limited(receive, self.max_body_bytes), send_tracked)
        except BodyTooLarge:  # the app reads the whole body before it answers
            await _respond(send_with_id, 413, error_body(self._too_large()))
        except Exception as error:
            typed = faults.typed(error)
            if typed is None or started:
                raise
            log.warning("%s on %s (request %s): %r", typed.code, scope["path"], request_id, error)
            status = 503 if isinstance(typed, ServiceUnavailable) else 504
            await _respond(send_with_id, status, error_body(typed))

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A subscription connection: authenticated from its upgrade request like HTTP (see
        `websocket_auth`); no deadline (it lives as long as the client wants) and no body limit
        (strawberry reads messages one by one)."""
        headers = Headers(scope=scope)
        request_id = pick_request_id(headers.get(HEADER))
        token = request_id_var.set(request_id)
        try:
            state = scope.setdefault("state", {})
            state["principal"] = ANONYMOUS
            if scope["path"] in self.authenticate_paths:
                try:
                    state["principal"] = principal_from_authorization_header(headers.get("authorization"))
                except Unauthenticated as error:
                    await deny_upgrade(scope, receive, send, error, [(HEADER.encode(), request_id.encode())])
                    return
            await self.app(scope, receive, send)
        finally:
            request_id_var.reset(token)

    def _too_large(self) -> PayloadTooLarge:
        return PayloadTooLarge(f"request body over {self.max_body_bytes} bytes")


def _limited(receive: Receive, limit: int) -> Receive:
    """Counts streamed body bytes too (a chunked request has no Content-Length)."""
    seen = 0

    async def wrapped() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge()
        return message

    return wrapped


class BodyTooLarge(Exception):
    pass


async def _respond(send: Send, status: int, body: bytes, *, www_authenticate: bool = False) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if www_authenticate:
        headers.append((b"www-authenticate", b'Bearer error="invalid_token"'))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
