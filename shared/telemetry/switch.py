"""The process's tracing switch: off (the default) or on with a tracer from our own provider.

Hot paths ask `TRACING.on` and, when it is false, do nothing else: no span objects, no context
changes, no SDK. `span()` hands out one shared do-nothing context manager in that case, so a
`with span(...)` around a pipeline stage costs a function call.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import Any

from opentelemetry.trace import Span, SpanKind, Tracer

INSTRUMENTATION = "alliance-benefits-graph"

NO_SPAN: AbstractContextManager[None] = nullcontext()  # reusable: it keeps no state


class TracingSwitch:
    """Whether spans are made in this process, and by which tracer."""

    def __init__(self) -> None:
        self.on = False
        self.tracer: Tracer | None = None
        self.provider: Any = None  # the SDK's TracerProvider, kept to flush and shut down

    def turn_on(self, provider: Any) -> None:
        self.provider = provider
        self.tracer = provider.get_tracer(INSTRUMENTATION)
        self.on = True

    def turn_off(self) -> Any:
        """Stops making spans; returns the provider that was in use (the caller shuts it down)."""
        provider, self.provider, self.tracer, self.on = self.provider, None, None, False
        return provider


TRACING = TracingSwitch()


def span(
    name: str, kind: SpanKind = SpanKind.INTERNAL, attributes: dict[str, Any] | None = None
) -> AbstractContextManager[Span | None]:
    """A span made current for the `with` block, or (tracing off) a shared no-op yielding None."""
    tracer = TRACING.tracer
    if tracer is None:
        return NO_SPAN
    return tracer.start_as_current_span(name, kind=kind, attributes=attributes)
