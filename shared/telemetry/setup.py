"""Turning tracing on from the standard OpenTelemetry environment variables.

Tracing is on when an OTLP endpoint is given (`OTEL_EXPORTER_OTLP_ENDPOINT`, or the traces-only
`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) and not disabled (`OTEL_SDK_DISABLED=true`,
`OTEL_TRACES_EXPORTER=none`). The SDK and the exporter are imported only then, so a process
without tracing never loads them. The exporter itself reads the other `OTEL_EXPORTER_OTLP_*`
settings (headers, timeout, compression) and the SDK reads `OTEL_TRACES_SAMPLER`,
`OTEL_RESOURCE_ATTRIBUTES` and `OTEL_BSP_*`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

from shared.telemetry.switch import TRACING

log = logging.getLogger("abg.telemetry")

ENDPOINT = "OTEL_EXPORTER_OTLP_ENDPOINT"
TRACES_ENDPOINT = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"


def otlp_configured(environ: Mapping[str, str] | None = None) -> bool:
    environ = os.environ if environ is None else environ
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    if environ.get("OTEL_TRACES_EXPORTER", "").strip().lower() == "none":
        return False
    return bool(environ.get(TRACES_ENDPOINT, "").strip() or environ.get(ENDPOINT, "").strip())


def configure_tracing(service_name: str, *, exporter: Any = None) -> bool:
    """Turns tracing on for this process when OTLP export is configured, or with `exporter` (a
    span exporter of the SDK, exported span by span: tests). Returns whether tracing is on.

    Idempotent: once on, a process keeps its first configuration (the gateway and a service
    served in one test process share it). `OTEL_SERVICE_NAME` wins over `service_name`.
    """
    if TRACING.on:
        return True
    if exporter is None and not otlp_configured():
        return False
    from opentelemetry import trace
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    name = os.environ.get("OTEL_SERVICE_NAME", "").strip() or service_name
    provider = TracerProvider(resource=Resource.create({"service.name": name}))
    if exporter is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        # batched, from a thread of its own: a request never waits for the collector
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        # other OpenTelemetry instrumentation in the process joins the same traces
        trace.set_tracer_provider(provider)
        log.info("tracing on: service %s, spans exported over OTLP/HTTP", name)
    else:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    TRACING.turn_on(provider)
    return True


def flush_tracing() -> None:
    """Exports the spans still queued (an app shutting down); the provider stays in use."""
    if TRACING.provider is not None:
        TRACING.provider.force_flush()


def shutdown_tracing() -> None:
    """Turns tracing off and shuts its provider down (tests; a process exiting does it itself)."""
    provider = TRACING.turn_off()
    if provider is not None:
        provider.shutdown()
