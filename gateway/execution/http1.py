"""A small pooled HTTP/1.1 client for subgraph requests: asyncio protocols + the httptools parser.

Why not httpx or aiohttp: a gateway spends most of its time sending subgraph requests, and on
the benchmark machine httpx cost ~5.5 ms of CPU per request (httpcore re-attempts a failing
import on every call) and aiohttp ~260 µs; this client costs ~60 µs. It does only what a gateway
needs: POST a body to one origin, keep-alive connections reused last-in-first-out, at most
`max_connections` per origin (later requests wait for one), one deadline per request, responses
framed by the parser (content-length, chunked, or end of connection), a cap on response size.

Connections the server closed while idle are dropped as soon as the close arrives; one that dies
between being picked and the first response byte is retried once on a new connection when the
caller says the request is safe to repeat (queries, not mutations).
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import httptools


class HttpError(Exception):
    """The request did not get a complete HTTP response."""


class ResponseTooLarge(HttpError):
    pass


class _StaleConnection(HttpError):
    """A reused connection closed before any byte of the response arrived."""


@dataclass(slots=True)
class HttpResponse:
    status: int
    body: bytes


class _Connection(asyncio.Protocol):
    """One TCP connection; at most one request in flight (no pipelining)."""

    def __init__(self, pool: Http1Pool) -> None:
        self.pool = pool
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.waiter: asyncio.Future[HttpResponse] | None = None
        self.chunks: list[bytes] = []
        self.size = 0
        self.received = False  # any byte of the current response
        self.framed = False  # content-length or chunked: the end is known without a close
        self.closed = False
        self.keep_alive = True
        self.idle_since = 0.0
        self.counted = False  # in the pool's count of open connections

    # ---- asyncio.Protocol ---------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        if self.waiter is None or self.waiter.done():
            # bytes nobody asked for: the connection is out of step, never reuse it
            self.close()
            return
        self.received = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as error:
            self._fail(HttpError(f"malformed HTTP response: {error}"))
            self.close()

    def eof_received(self) -> bool:
        return False  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            if self.received and not self.framed and self.parser.get_status_code():
                # a response delimited by the end of the connection
                waiter.set_result(HttpResponse(self.parser.get_status_code(), b"".join(self.chunks)))
            elif not self.received:
                waiter.set_exception(_StaleConnection("connection closed before the response"))
            else:
                waiter.set_exception(HttpError("connection closed in the middle of the response"))
        self.pool._lost(self)

    # ---- httptools callbacks ------------------------------------------------------------------

    def on_header(self, name: bytes, value: bytes) -> None:
        lower = name.lower()
        if lower == b"content-length" or (lower == b"transfer-encoding" and b"chunked" in value.lower()):
            self.framed = True

    def on_body(self, body: bytes) -> None:
        self.size += len(body)
        if self.size > self.pool.max_response_bytes:
            self._fail(ResponseTooLarge(f"response larger than {self.pool.max_response_bytes} bytes"))
            self.close()
            return
        self.chunks.append(body)

    def on_message_complete(self) -> None:
        self.keep_alive = self.parser.should_keep_alive()
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(HttpResponse(self.parser.get_status_code(), b"".join(self.chunks)))

    # ---- use ----------------------------------------------------------------------------------

    async def send(self, request: bytes) -> HttpResponse:
        assert self.transport is not None
        if self.closed or self.transport.is_closing():
            raise _StaleConnection("connection already closed")
        self.waiter = asyncio.get_running_loop().create_future()
        self.chunks = []
        self.size = 0
        self.received = False
        self.framed = False
        self.transport.write(request)
        try:
            return await self.waiter
        finally:
            self.waiter = None

    def reusable(self) -> bool:
        return not self.closed and self.keep_alive and self.transport is not None and not self.transport.is_closing()

    def _fail(self, error: Exception) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(error)

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()


def _clean_header(name: str, value: str) -> bytes | None:
    # client headers are forwarded: never let one smuggle a line break into our request
    if any(ch in value for ch in "\r\n\0") or not name or any(ch in name for ch in " \t\r\n:\0"):
        return None
    return f"{name}: {value}\r\n".encode("latin-1", "replace")


class Http1Pool:
    """Keep-alive connections to one origin, POSTing to one path."""

    def __init__(
        self,
        url: str,
        *,
        max_connections: int = 100,
        timeout_seconds: float = 30.0,
        idle_seconds: float = 4.0,  # below common servers' keep-alive timeouts (uvicorn: 5 s)
        max_response_bytes: int = 64 * 1024 * 1024,
        headers: Mapping[str, str] | None = None,
        ssl_context: ssl.SSLContext | None = None,  # for https: defaults to the system's trusted CAs
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url!r}")
        self.url = url
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.ssl = (ssl_context or ssl.create_default_context()) if parts.scheme == "https" else None
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        default_port = (parts.scheme == "https" and self.port == 443) or (parts.scheme == "http" and self.port == 80)
        authority = parts.hostname if default_port else f"{parts.hostname}:{self.port}"
        if ":" in parts.hostname:  # an IPv6 literal
            authority = f"[{parts.hostname}]" if default_port else f"[{parts.hostname}]:{self.port}"
        fixed = "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
        self._head = f"POST {path} HTTP/1.1\r\nhost: {authority}\r\n{fixed}".encode("latin-1")
        self.max_connections = max_connections
        self.timeout_seconds = timeout_seconds
        self.idle_seconds = idle_seconds
        self.max_response_bytes = max_response_bytes
        self._idle: list[_Connection] = []
        self._open = 0  # connections open or being opened, idle ones included
        # None handed to a waiter: a slot was freed and reserved for it (already counted in _open)
        self._waiters: deque[asyncio.Future[_Connection | None]] = deque()
        self.connections_made = 0

    def _request_bytes(self, body: bytes, headers: Mapping[str, str] | None) -> bytes:
        extra = b""
        if headers:
            extra = b"".join(line for name, value in headers.items() if (line := _clean_header(name, value)))
        return b"%s%scontent-length: %d\r\n\r\n%s" % (self._head, extra, len(body), body)

    async def post(
        self,
        body: bytes,
        headers: Mapping[str, str] | None = None,
        *,
        repeatable: bool = True,
        timeout: float | None = None,
    ) -> HttpResponse:
        """POST `body`; raises TimeoutError past the pool's timeout (or `timeout`, when sooner),
        HttpError/OSError on failure."""
        request = self._request_bytes(body, headers)
        limit = self.timeout_seconds if timeout is None else min(timeout, self.timeout_seconds)
        async with asyncio.timeout(limit):
            connection, reused = await self._acquire()
            try:
                try:
                    response = await connection.send(request)
                except _StaleConnection:
                    self._discard(connection)
                    if not (reused and repeatable):
                        raise HttpError("the subgraph closed the connection before answering") from None
                    connection, reused = await self._acquire(fresh=True)
                    response = await connection.send(request)
            except BaseException:
                self._discard(connection)
                raise
            self._release(connection)
            return response

    # ---- the pool -----------------------------------------------------------------------------

    async def _acquire(self, fresh: bool = False) -> tuple[_Connection, bool]:
        loop = asyncio.get_running_loop()
        if not fresh:
            now = loop.time()
            while self._idle:
                connection = self._idle.pop()
                if connection.reusable() and now - connection.idle_since < self.idle_seconds:
                    return connection, True
                self._discard(connection)
        if self._open < self.max_connections:
            return await self._connect(), False
        waiter: asyncio.Future[_Connection | None] = loop.create_future()
        self._waiters.append(waiter)
        try:
            handed = await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                # a connection (or a free slot) arrived as we were cancelled: pass it on
                given = waiter.result()
                if given is not None:
                    self._release(given)
                else:
                    self._open -= 1
                    self._wake()
            else:
                self._waiters.remove(waiter)
            raise
        if handed is None:  # a slot was freed for us: open a connection of our own
            return await self._connect(reserved=True), False
        return handed, True

    async def _connect(self, reserved: bool = False) -> _Connection:
        if not reserved:
            self._open += 1
        loop = asyncio.get_running_loop()
        try:
            _, connection = await loop.create_connection(
                lambda: _Connection(self), self.host, self.port, ssl=self.ssl,
                server_hostname=self.host if self.ssl else None,
            )
        except BaseException:
            self._open -= 1
            self._wake()
            raise
        connection.counted = True
        self.connections_made += 1
        return connection

    def _release(self, connection: _Connection) -> None:
        if not connection.reusable():
            self._discard(connection)
            return
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(connection)
                return
        connection.idle_since = asyncio.get_running_loop().time()
        self._idle.append(connection)

    def _discard(self, connection: _Connection) -> None:
        connection.close()
        self._forget(connection)

    def _forget(self, connection: _Connection) -> None:
        if connection.counted:
            connection.counted = False
            self._open -= 1
            self._wake()

    def _lost(self, connection: _Connection) -> None:
        # the server closed it; if it sat idle, take it out now (an in-use one is discarded by its user)
        if connection in self._idle:
            self._idle.remove(connection)
            self._forget(connection)

    def _wake(self) -> None:
        while self._waiters and self._open < self.max_connections:
            waiter = self._waiters.popleft()
            if not waiter.done():
                self._open += 1
                waiter.set_result(None)
                return

    async def aclose(self) -> None:
        idle, self._idle = self._idle, []
        for connection in idle:
            self._discard(connection)

    @property
    def idle_connections(self) -> int:
        return len(self._idle)

    @property
    def open_connections(self) -> int:
        return self._open
