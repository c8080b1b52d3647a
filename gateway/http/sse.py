"""GraphQL over Server-Sent Events, graphql-sse's "distinct connections" mode.

A client that sends `Accept: text/event-stream` (POST, or GET for EventSource) gets
`text/event-stream`: one `event: next` with the payload as `data` per result, then
`event: complete`. A subscription streams until the subgraph completes it or the client
disconnects (Starlette then cancels the stream, which closes the subgraph WebSocket); a query
or mutation gives one `next`. Requests refused before execution get their usual JSON answer.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import aclosing
from typing import Any

import orjson
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

log = logging.getLogger("gateway.http")

EVENT_STREAM = "text/event-stream"
_HEADERS = {"cache-control": "no-cache", "x-accel-buffering": "no"}  # no buffering proxies in between
_COMPLETE = b"event: complete\ndata:\n\n"


class EventStreamResponse(StreamingResponse):
    """A stream that ends as soon as the client disconnects, whatever the server's ASGI version:
    Starlette watches for the disconnect only below ASGI 2.4 and otherwise notices it at the next
    write, which for a quiet subscription may be never (its subgraph WebSocket left open)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope = {**scope, "asgi": {**scope.get("asgi", {}), "spec_version": "2.3"}}
        await super().__call__(scope, receive, send)


def _next(payload: dict[str, Any]) -> bytes:
    return b"event: next\ndata: " + orjson.dumps(payload) + b"\n\n"


def sse_single(body: dict[str, Any]) -> StreamingResponse:
    async def stream() -> AsyncIterator[bytes]:
        yield _next(body) + _COMPLETE

    return EventStreamResponse(stream(), media_type=EVENT_STREAM, headers=_HEADERS)


def sse_stream(
    events: AsyncIterator[dict[str, Any]], release: Callable[[], None], request_id: str | None = None
) -> StreamingResponse:
    """The subscription's payloads as events; `release` is called once the stream is over."""

    async def stream() -> AsyncIterator[bytes]:
        try:
            async with aclosing(events) as payloads:
                async for payload in payloads:
                    yield _next(payload)
        except Exception:
            log.exception("internal error (request id %s)", request_id)
            extensions = {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id}
            yield _next({"errors": [{"message": "Internal server error", "extensions": extensions}]})
        finally:
            release()
        yield _COMPLETE

    return EventStreamResponse(stream(), media_type=EVENT_STREAM, headers=_HEADERS)
