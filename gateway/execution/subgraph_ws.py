"""The gateway as a graphql-transport-ws client: one subscription to one subgraph.

One WebSocket per subscription (simple, and each subgraph sees each subscriber's own
credentials): `connection_init` (the forwarded headers, also inside the payload as
`{"headers": {...}}` for servers that read credentials there) → `connection_ack` → `subscribe`
→ `next`… until `complete`, answering `ping` with `pong`. Leaving the iterator early (the client
went away or unsubscribed) sends `complete` and closes the socket. A socket that cannot be
opened, or that drops before the subgraph completes, raises `SubgraphError`
(`SUBGRAPH_UNREACHABLE`; `UNAUTHENTICATED` / `FORBIDDEN` when the subgraph refused the
credentials with 401 / 403 on the upgrade or closed with 4401 / 4403).
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Mapping
from typing import Any

import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.typing import Subprotocol

from .client import SubgraphError

PROTOCOL = Subprotocol("graphql-transport-ws")
# a subgraph refusing the caller's credentials: by HTTP status on the upgrade, or by close code
_REFUSALS = {401: "UNAUTHENTICATED", 403: "FORBIDDEN", 4401: "UNAUTHENTICATED", 4403: "FORBIDDEN"}
_OPERATION_ID = "1"  # one operation per socket


def websocket_url(url: str) -> str:
    """The subgraph's routing URL with the WebSocket scheme (http → ws, https → wss)."""
    if url.startswith("https://"):
        return "wss://" + url[len("https://") :]
    if url.startswith("http://"):
        return "ws://" + url[len("http://") :]
    return url


class SubgraphSubscription:
    """`async for payload in SubgraphSubscription(...).events()`: each `next` payload
    (`{"data", "errors"?}`); a subgraph's `error` message arrives as one payload with errors."""

    def __init__(
        self,
        subgraph: str,
        url: str,
        payload: dict[str, Any],
        headers: Mapping[str, str],
        *,
        open_timeout: float = 10.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.subgraph = subgraph
        self.url = websocket_url(url)
        self.payload = payload
        self.headers = dict(headers)
        self.open_timeout = open_timeout
        self.ssl_context = ssl_context

    def _unreachable(self, why: object) -> SubgraphError:
        return self._failed(why, None)

    def _failed(self, why: object, status: int | None) -> SubgraphError:
        code = _REFUSALS.get(status or 0, "SUBGRAPH_UNREACHABLE")
        return SubgraphError(self.subgraph, f'Subscription to subgraph "{self.subgraph}" failed: {why}', code)

    async def events(self) -> AsyncIterator[dict[str, Any]]:
        options: dict[str, Any] = {}
        if self.url.startswith("wss://") and self.ssl_context is not None:
            options["ssl"] = self.ssl_context
        try:
            socket = await connect(
                self.url,
                subprotocols=[PROTOCOL],
                additional_headers=self.headers,
                open_timeout=self.open_timeout,
                close_timeout=2,
                max_size=64 * 1024 * 1024,
                **options,
            )
        except InvalidStatus as error:
            raise self._failed(error, error.response.status_code) from error
        except (OSError, InvalidHandshake, TimeoutError) as error:
            raise self._unreachable(error) from error
        completed = False
        try:
            await self._start(socket)
            while True:
                message = await self._receive(socket)
                kind = message.get("type")
                if kind == "ping":
                    await socket.send(orjson.dumps({"type": "pong"}).decode())
                elif kind == "next" and message.get("id") == _OPERATION_ID:
                    payload = message.get("payload")
                    yield payload if isinstance(payload, dict) else {"data": None}
                elif kind == "error" and message.get("id") == _OPERATION_ID:
                    completed = True  # an error message ends the operation on the subgraph's side
                    errors = message.get("payload")
                    yield {"data": None, "errors": errors if isinstance(errors, list) else [{"message": str(errors)}]}
                    return
                elif kind == "complete" and message.get("id") == _OPERATION_ID:
                    completed = True
                    return
        finally:
            await self._close(socket, completed)

    async def _start(self, socket: ClientConnection) -> None:
        init = {"type": "connection_init", "payload": {"headers": self.headers}}
        await socket.send(orjson.dumps(init).decode())
        try:
            async with asyncio.timeout(self.open_timeout):
                while True:
                    message = await self._receive(socket)
                    if message.get("type") == "connection_ack":
                        break
                    if message.get("type") == "ping":
                        await socket.send(orjson.dumps({"type": "pong"}).decode())
        except TimeoutError as error:
            raise self._unreachable("no connection_ack") from error
        subscribe = {"id": _OPERATION_ID, "type": "subscribe", "payload": self.payload}
        await socket.send(orjson.dumps(subscribe).decode())

    async def _receive(self, socket: ClientConnection) -> dict[str, Any]:
        try:
            raw = await socket.recv()
        except ConnectionClosed as closed:
            if closed.rcvd is None:
                raise self._unreachable("connection closed") from closed
            reason = f"closed with code {closed.rcvd.code} {closed.rcvd.reason}".strip()
            raise self._failed(reason, closed.rcvd.code) from closed
        try:
            message = orjson.loads(raw)
        except orjson.JSONDecodeError as error:
            raise SubgraphError(self.subgraph, "Subgraph sent a WebSocket message that is not JSON.",
                                "SUBGRAPH_BAD_RESPONSE") from error
        if not isinstance(message, dict):
            raise SubgraphError(self.subgraph, "Subgraph sent a WebSocket message that is not an object.",
                                "SUBGRAPH_BAD_RESPONSE")
        return message

    async def _close(self, socket: ClientConnection, completed: bool) -> None:
        # runs when the client went away too (the task is being cancelled): say goodbye briefly
        try:
            if not completed:
                await socket.send(orjson.dumps({"id": _OPERATION_ID, "type": "complete"}).decode())
        except ConnectionClosed:
            pass
        finally:
            await socket.close()
