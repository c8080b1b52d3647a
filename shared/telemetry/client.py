"""Client spans of GraphQL requests to other services (OpenTelemetry's HTTP client conventions).

The span is current for its `with` block, so the trace headers sent with the request
(`with_current_context`, `outgoing_trace_headers`) make the callee's server span its child.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from opentelemetry.trace import Span, SpanKind, StatusCode

from shared.telemetry.graphql import OPERATION_NAME, OPERATION_TYPE, operation_of
from shared.telemetry.switch import NO_SPAN, TRACING, span


@lru_cache(maxsize=256)
def _server_of(url: str) -> dict[str, Any]:
    parts = urlsplit(url)
    found: dict[str, Any] = {"url.full": url}
    if parts.hostname:
        found["server.address"] = parts.hostname
        found["server.port"] = parts.port or (443 if parts.scheme == "https" else 80)
    return found


def graphql_client_span(
    name: str, url: str | None, document: str | None, operation_name: str | None = None,
    attributes: dict[str, Any] | None = None,
) -> AbstractContextManager[Span | None]:
    """A client span for one GraphQL POST to `url` (the shared no-op while tracing is off)."""
    if not TRACING.on:
        return NO_SPAN
    operation_type, operation_name = operation_of(document, operation_name)
    found: dict[str, Any] = {"http.request.method": "POST", **(attributes or {})}
    if url:
        found.update(_server_of(url))
    if operation_type:
        found[OPERATION_TYPE] = operation_type
    if operation_name:
        found[OPERATION_NAME] = operation_name
    return span(name, SpanKind.CLIENT, found)


def record_status(client_span: Span, status: int) -> None:
    """The HTTP status of the answer; anything but 200 is an error for a GraphQL call."""
    client_span.set_attribute("http.response.status_code", status)
    if status != 200:
        client_span.set_attribute("error.type", str(status))
        client_span.set_status(StatusCode.ERROR)
