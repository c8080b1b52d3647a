"""Helpers of the tracing tests: spans recorded in memory, W3C trace headers made and read."""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from shared.telemetry import TRACING, configure_tracing, shutdown_tracing


@contextmanager
def recorded_spans() -> Iterator[InMemorySpanExporter]:
    """Tracing on in this process for the block, every finished span kept in memory."""
    assert not TRACING.on, "tracing was already on in the test process"
    exporter = InMemorySpanExporter()
    assert configure_tracing("tests", exporter=exporter)
    try:
        yield exporter
    finally:
        shutdown_tracing()


@dataclass(frozen=True)
class TraceParent:
    trace_id: int
    span_id: int  # the sender's span: the parent of the receiver's

    @classmethod
    def new(cls) -> TraceParent:
        return cls(secrets.randbits(128) or 1, secrets.randbits(64) or 1)

    @classmethod
    def parse(cls, header: str) -> TraceParent:
        version, trace_id, span_id, flags = header.split("-")
        assert version == "00" and len(trace_id) == 32 and len(span_id) == 16 and len(flags) == 2, header
        return cls(int(trace_id, 16), int(span_id, 16))

    def header(self) -> str:
        return f"00-{self.trace_id:032x}-{self.span_id:016x}-01"


def named(spans: Sequence[ReadableSpan], name: str) -> list[ReadableSpan]:
    return [span for span in spans if span.name == name]


def one(spans: Sequence[ReadableSpan], name: str) -> ReadableSpan:
    found = named(spans, name)
    assert len(found) == 1, (name, [span.name for span in spans])
    return found[0]


def parent_id(span: ReadableSpan) -> int | None:
    return span.parent.span_id if span.parent is not None else None
