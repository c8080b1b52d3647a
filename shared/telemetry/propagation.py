"""W3C Trace Context (`traceparent`, `tracestate`) in and out of HTTP headers.

With tracing on, outgoing requests carry the current span's context. With tracing off, a
process passes the caller's trace headers on unchanged (W3C Trace Context allows a hop that does
not trace to forward them as they are): the next hop that traces still joins the caller's trace,
with its span a child of the caller's. Only these two headers travel: no `baggage`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from contextvars import ContextVar, Token

from opentelemetry.context import Context
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from shared.telemetry.switch import TRACING

TRACE_HEADERS = ("traceparent", "tracestate")
_RAW_NAMES = {name.encode(): name for name in TRACE_HEADERS}

_W3C = TraceContextTextMapPropagator()

# The trace headers the current request came with, for its own calls to other services while
# tracing is off (with tracing on, the current span says it instead).
_passed_through: ContextVar[dict[str, str] | None] = ContextVar("passed_through_trace_headers", default=None)


def trace_headers_in(raw: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    """The trace headers among raw ASGI headers (lower-case names), usually none: one pass, no decoding of the rest."""
    found: dict[str, str] = {}
    for name, value in raw:
        known = _RAW_NAMES.get(name)
        if known is not None and value:
            found[known] = value.decode("latin-1")
    return found


def extract(headers: Mapping[str, str]) -> Context:
    """The caller's span context as a parent (an empty context when the headers are absent or malformed)."""
    return _W3C.extract(headers)


def with_current_context(headers: Mapping[str, str] | None) -> dict[str, str]:
    """`headers` whose trace headers are replaced by the current span's context."""
    out = {name: value for name, value in (headers or {}).items() if name.lower() not in TRACE_HEADERS}
    _W3C.inject(out)
    return out


def pass_through(raw: Iterable[tuple[bytes, bytes]]) -> Token[dict[str, str] | None] | None:
    """Keeps the request's trace headers for its calls to other services, when tracing is off."""
    if TRACING.on:
        return None
    found = trace_headers_in(raw)
    return _passed_through.set(found) if found else None


def end_pass_through(token: Token[dict[str, str] | None] | None) -> None:
    if token is not None:
        _passed_through.reset(token)


def outgoing_trace_headers() -> dict[str, str]:
    """Trace headers for a call to another service: the current span's context (tracing on), or
    those the request came with, unchanged (tracing off)."""
    if TRACING.on:
        carrier: dict[str, str] = {}
        _W3C.inject(carrier)
        return carrier
    return _passed_through.get() or {}
