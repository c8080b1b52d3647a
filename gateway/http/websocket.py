"""GraphQL over WebSocket (the graphql-transport-ws protocol) on the GraphQL path.

connection_init → connection_ack, then any number of operations, each `subscribe` (with a
client-chosen id) answered by `next` payloads and a `complete`, or one `error`; `complete` from
the client stops one; ping/pong both ways. Queries and mutations sent over the socket get one
`next` and `complete`. Protocol faults close the socket with the protocol's codes.

Credentials: the upgrade request's `Authorization` header, or (browsers cannot set headers on a
WebSocket) the connection_init payload's `authorization` or `headers`. A token that does not
verify closes the socket with 4403 at connection_init, before any subgraph is contacted. Every
operation then goes through the same hooks as an HTTP request (token, rate limit, trusted
documents), seen as a POST carrying the connection's headers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from contextlib import aclosing
from typing import Any

import orjson
from starlette.requests import Request
from starlette.websockets import WebSocket, WebSocketDisconnect

from shared.auth.tokens import principal_from_authorization_header
from shared.errors import Unauthenticated

from ..execution.pipeline import Gateway, GraphQLRequest
from .subscription_slots import SubscriptionSlots, limit_error

log = logging.getLogger("gateway.http")

PROTOCOL = "graphql-transport-ws"

# close codes of the protocol
BAD_REQUEST = 4400
UNAUTHORIZED = 4401  # subscribe before connection_ack
FORBIDDEN = 4403  # connection_init refused (a token that does not verify)
NOT_ACCEPTABLE = 4406  # the client does not speak graphql-transport-ws
INIT_TIMEOUT = 4408
DUPLICATE_ID = 4409
TOO_MANY_INIT = 4429


class _Closed(Exception):
    """The connection is to be closed with this code."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class GraphQLWebSocket:
    def __init__(
        self,
        gateway: Gateway,
        endpoint: Any,  # app.GraphQLEndpoint: its hooks and header forwarding
        slots: SubscriptionSlots,
        *,
        verify_tokens: bool,
        max_per_connection: int | None,
        init_timeout_seconds: float,
    ) -> None:
        self.gateway = gateway
        self.endpoint = endpoint
        self.slots = slots
        self.verify_tokens = verify_tokens
        self.max_per_connection = max_per_connection
        self.init_timeout_seconds = init_timeout_seconds

    async def handle(self, websocket: WebSocket) -> None:
        if PROTOCOL not in websocket.scope.get("subprotocols", ()):
            await websocket.accept()
            await websocket.close(NOT_ACCEPTABLE, "Subprotocol not acceptable")
            return
        await websocket.accept(subprotocol=PROTOCOL)
        await _Connection(self, websocket).run()


class _Connection:
    def __init__(self, server: GraphQLWebSocket, websocket: WebSocket) -> None:
        self.server = server
        self.websocket = websocket
        self.initialised = asyncio.Event()
        self.request: Request | None = None  # the connection seen as an HTTP request, once acknowledged
        self.operations: dict[str, asyncio.Task[None]] = {}
        self.streaming: set[str] = set()  # ids of running subscriptions, for the limits
        self.send_lock = asyncio.Lock()

    async def run(self) -> None:
        timer = asyncio.create_task(self._init_timeout())
        try:
            while True:
                message = await self.websocket.receive()
                if message["type"] == "websocket.disconnect":
                    return
                await self._on_message(message.get("text") or message.get("bytes") or b"")
        except _Closed as closed:
            await self._close(closed.code, closed.reason)
        except WebSocketDisconnect:
            pass
        finally:
            timer.cancel()
            for task in list(self.operations.values()):
                task.cancel()  # the client is gone: each closes its subgraph WebSocket
            await asyncio.gather(*self.operations.values(), return_exceptions=True)

    async def _init_timeout(self) -> None:
        try:
            await asyncio.wait_for(self.initialised.wait(), self.server.init_timeout_seconds)
        except TimeoutError:
            await self._close(INIT_TIMEOUT, "Connection initialisation timeout")

    async def _close(self, code: int, reason: str) -> None:
        try:
            await self.websocket.close(code, reason)
        except (RuntimeError, OSError, WebSocketDisconnect):
            pass  # already closed

    async def send(self, message: dict[str, Any]) -> None:
        async with self.send_lock:
            await self.websocket.send_text(orjson.dumps(message).decode())

    async def _on_message(self, raw: str | bytes) -> None:
        try:
            message = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise _Closed(BAD_REQUEST, "Invalid message received") from None
        kind = message.get("type") if isinstance(message, dict) else None
        if kind == "connection_init":
            await self._on_init(message.get("payload"))
        elif kind == "ping":
            await self.send({"type": "pong"})
        elif kind == "pong":
            pass
        elif kind == "subscribe":
            self._on_subscribe(message)
        elif kind == "complete":
            if isinstance(message.get("id"), str):
                task = self.operations.pop(message["id"], None)
                if task is not None:
                    self._release(message["id"])  # now, not once the subgraph socket has closed
                    task.cancel()
        else:
            raise _Closed(BAD_REQUEST, "Invalid message received")

    async def _on_init(self, payload: Any) -> None:
        if self.initialised.is_set():
            raise _Closed(TOO_MANY_INIT, "Too many initialisation requests")
        self.initialised.set()
        if payload is not None and not isinstance(payload, dict):
            raise _Closed(BAD_REQUEST, "Invalid message received")
        request = self._as_request(payload or {})
        if self.server.verify_tokens:
            try:
                principal_from_authorization_header(request.headers.get("authorization"))
            except Unauthenticated as error:
                log.info("websocket connection refused: %s", error)
                raise _Closed(FORBIDDEN, "Forbidden") from None
        self.request = request
        await self.send({"type": "connection_ack"})

    def _as_request(self, payload: dict[str, Any]) -> Request:
        """The upgrade request with the credentials the connection_init payload gave, as an HTTP
        POST for the request hooks and header forwarding."""
        given: dict[str, str] = {}
        headers = payload.get("headers")
        if isinstance(headers, dict):
            given.update({str(k).lower(): v for k, v in headers.items() if isinstance(v, str)})
        for key in ("authorization", "Authorization"):
            if isinstance(payload.get(key), str):
                given["authorization"] = payload[key]
        allowed = {"authorization", *self.server.endpoint.settings.forward_headers}
        given = {k: v for k, v in given.items() if k in allowed}
        raw = [(k, v) for k, v in self.websocket.scope["headers"] if k.decode("latin-1").lower() not in given]
        raw += [(k.encode("latin-1"), v.encode("latin-1")) for k, v in given.items()]
        scope = {**self.websocket.scope, "type": "http", "method": "POST", "headers": raw}
        return Request(scope)

    def _on_subscribe(self, message: dict[str, Any]) -> None:
        if self.request is None:
            raise _Closed(UNAUTHORIZED, "Unauthorized")
        operation_id, payload = message.get("id"), message.get("payload")
        if not isinstance(operation_id, str) or not operation_id or not isinstance(payload, dict):
            raise _Closed(BAD_REQUEST, "Invalid message received")
        if operation_id in self.operations:
            raise _Closed(DUPLICATE_ID, f"Subscriber for {operation_id} already exists")
        graphql_request = _graphql_request(payload, self.server.endpoint.forwarded(self.request, uuid.uuid4().hex))
        if graphql_request is None:
            raise _Closed(BAD_REQUEST, "Invalid message received")
        task = asyncio.create_task(self._operation(operation_id, graphql_request))
        self.operations[operation_id] = task
        task.add_done_callback(lambda done: self._forget(operation_id, done))

    def _forget(self, operation_id: str, task: asyncio.Task[None]) -> None:
        if self.operations.get(operation_id) is task:
            del self.operations[operation_id]

    async def _operation(self, operation_id: str, graphql_request: GraphQLRequest) -> None:
        try:
            await self._run(operation_id, graphql_request)
        except asyncio.CancelledError:
            raise  # the client completed it or went away: nothing more to say
        except (WebSocketDisconnect, RuntimeError, OSError):
            pass  # the socket closed while sending
        except Exception:
            log.exception("internal error (request id %s)", graphql_request.request_id)
            extensions = {"code": "INTERNAL_SERVER_ERROR", "requestId": graphql_request.request_id}
            error = {"message": "Internal server error", "extensions": extensions}
            with contextlib.suppress(Exception):  # the socket may be gone as well
                await self.send({"id": operation_id, "type": "error", "payload": [error]})

    async def _run(self, operation_id: str, graphql_request: GraphQLRequest) -> None:
        request = self.request
        assert request is not None
        for hook in self.server.endpoint.hooks:
            answer = await hook(request, graphql_request)
            if answer is not None:
                await self.send({"id": operation_id, "type": "error", "payload": _errors_of(answer.body)})
                return
        result = await self.server.gateway.execute(graphql_request)
        if result.events is None:
            errors = result.body.get("errors")
            if "data" not in result.body and errors:  # refused before execution
                await self.send({"id": operation_id, "type": "error", "payload": errors})
                return
            await self.send({"id": operation_id, "type": "next", "payload": result.body})
            await self.send({"id": operation_id, "type": "complete"})
            return
        async with aclosing(result.events) as events:
            refused = self._take_slot(operation_id)
            if refused is not None:
                await self.send({"id": operation_id, "type": "error", "payload": [refused]})
                return
            try:
                async for event in events:
                    await self.send({"id": operation_id, "type": "next", "payload": event})
            finally:
                self._release(operation_id)
        await self.send({"id": operation_id, "type": "complete"})

    def _take_slot(self, operation_id: str) -> dict[str, Any] | None:
        limit = self.server.max_per_connection
        if limit is not None and len(self.streaming) >= limit:
            return limit_error(f"A connection may run at most {limit} subscriptions.", limit)
        refused = self.server.slots.acquire()
        if refused is None:
            self.streaming.add(operation_id)
        return refused

    def _release(self, operation_id: str) -> None:
        if operation_id in self.streaming:
            self.streaming.discard(operation_id)
            self.server.slots.release()


def _graphql_request(payload: dict[str, Any], forward: dict[str, str]) -> GraphQLRequest | None:
    query, variables = payload.get("query"), payload.get("variables")
    operation_name, extensions = payload.get("operationName"), payload.get("extensions")
    document_id = payload.get("documentId")
    if query is not None and not isinstance(query, str):
        return None
    if variables is not None and not isinstance(variables, dict):
        return None
    return GraphQLRequest(
        query=query,
        document_id=document_id if isinstance(document_id, str) and document_id else None,
        operation_name=operation_name if isinstance(operation_name, str) and operation_name else None,
        variables=variables,
        extensions=extensions if isinstance(extensions, dict) else None,
        forward_headers=forward,
        request_id=forward.get("x-request-id"),
        streaming=True,
    )


def _errors_of(body: bytes | memoryview) -> list[dict[str, Any]]:
    try:
        errors = orjson.loads(bytes(body)).get("errors")
    except (orjson.JSONDecodeError, AttributeError):
        errors = None
    return errors if isinstance(errors, list) and errors else [{"message": "Request refused"}]
