"""A small graphql-transport-ws client over a real WebSocket, for subscription tests.

Messages are sorted by operation id as they arrive, so a test can run several subscriptions on one
connection and wait for each one's next message with a generous timeout (never a timed assertion).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator
from typing import Any

import orjson
import websockets

PROTOCOL = "graphql-transport-ws"
WAIT = 30.0  # seconds a test waits for a message that should come


def ws_url(graphql_url: str) -> str:
    return graphql_url.replace("http://", "ws://", 1).replace("https://", "wss://", 1)


class Connection:
    def __init__(self, socket: Any) -> None:
        self.socket = socket
        self._ids = itertools.count(1)
        self._inboxes: dict[str, asyncio.Queue[dict[str, Any]]] = {}
        self.closed: asyncio.Future[tuple[int | None, str]] = asyncio.get_running_loop().create_future()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for raw in self.socket:
                message = orjson.loads(raw)
                self._inbox(message.get("id", "")).put_nowait(message)
        except websockets.ConnectionClosed:
            pass
        if not self.closed.done():
            self.closed.set_result((self.socket.close_code, self.socket.close_reason or ""))

    def _inbox(self, operation_id: str) -> asyncio.Queue[dict[str, Any]]:
        return self._inboxes.setdefault(operation_id, asyncio.Queue())

    async def send(self, message: dict[str, Any]) -> None:
        await self.socket.send(orjson.dumps(message).decode())

    async def init(self, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        """Sends connection_init; the server's answer (connection_ack), or raises if it closed."""
        await self.send({"type": "connection_init", **({"payload": payload} if payload is not None else {})})
        return await self.receive("")

    async def subscribe(self, query: str, **variables: Any) -> str:
        operation_id = str(next(self._ids))
        self._inbox(operation_id)
        await self.send({"id": operation_id, "type": "subscribe", "payload": {"query": query, "variables": variables}})
        return operation_id

    async def complete(self, operation_id: str) -> None:
        await self.send({"id": operation_id, "type": "complete"})

    async def receive(self, operation_id: str, timeout: float = WAIT) -> dict[str, Any]:
        """The operation's next message; raises ConnectionError if the server closed first."""
        inbox = self._inbox(operation_id)
        getter = asyncio.ensure_future(inbox.get())
        done, _ = await asyncio.wait({getter, self.closed}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        if getter in done:
            return getter.result()
        getter.cancel()
        if self.closed.done():
            raise ConnectionError(f"closed by the server: {self.closed.result()}")
        raise TimeoutError(f"no message for operation {operation_id!r} within {timeout} s")

    async def next_data(self, operation_id: str, timeout: float = WAIT) -> dict[str, Any]:
        """The data of the operation's next `next` message (fails on anything else)."""
        message = await self.receive(operation_id, timeout)
        assert message["type"] == "next" and not message["payload"].get("errors"), message
        return message["payload"]["data"]

    def pending(self, operation_id: str) -> list[dict[str, Any]]:
        """Messages already received and not yet read, without waiting."""
        inbox, found = self._inbox(operation_id), []
        while not inbox.empty():
            found.append(inbox.get_nowait())
        return found


@contextlib.asynccontextmanager
async def connect(graphql_url: str, *, headers: dict[str, str] | None = None) -> AsyncIterator[Connection]:
    async with websockets.connect(
        ws_url(graphql_url), subprotocols=[PROTOCOL], additional_headers=headers or {}, open_timeout=WAIT,  # type: ignore[list-item]
    ) as socket:
        connection = Connection(socket)
        try:
            yield connection
        finally:
            connection._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await connection._reader


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}
