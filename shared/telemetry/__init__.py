"""Tracing shared by the gateway and the services: one switch, W3C propagation, a server span.

Off unless OTLP export is configured (`OTEL_EXPORTER_OTLP_ENDPOINT`); then code on hot paths
checks `TRACING.on` and does nothing more, and the SDK is never imported.
"""

from shared.telemetry.asgi import ServerSpanMiddleware, tracing_middleware
from shared.telemetry.propagation import (
    TRACE_HEADERS,
    end_pass_through,
    extract,
    outgoing_trace_headers,
    pass_through,
    trace_headers_in,
    with_current_context,
)
from shared.telemetry.setup import configure_tracing, flush_tracing, otlp_configured, shutdown_tracing
from shared.telemetry.switch import NO_SPAN, TRACING, span

__all__ = [
    "NO_SPAN",
    "ServerSpanMiddleware",
    "TRACE_HEADERS",
    "TRACING",
    "configure_tracing",
    "end_pass_through",
    "extract",
    "flush_tracing",
    "otlp_configured",
    "outgoing_trace_headers",
    "pass_through",
    "shutdown_tracing",
    "span",
    "trace_headers_in",
    "tracing_middleware",
    "with_current_context",
]
