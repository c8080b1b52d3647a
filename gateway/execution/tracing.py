"""Spans of the gateway's pipeline: its stages, and one client span per subgraph request.

Every helper returns at once while tracing is off (`shared.telemetry.TRACING`), so the pipeline
calls them unconditionally. Stage spans are made on every request, cache hits included (then
they are short and say `gateway.cache_hit`), so each request's trace has the same shape.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

from graphql import OperationDefinitionNode
from opentelemetry import trace
from opentelemetry.trace import Span, StatusCode

from shared.telemetry import NO_SPAN, TRACING, span
from shared.telemetry.client import graphql_client_span
from shared.telemetry.graphql import describe_operation

PARSE = "graphql.parse"
VALIDATE = "graphql.validate"
PLAN = "gateway.plan"
EXECUTE = "graphql.execute"

CACHE_HIT = "gateway.cache_hit"
SUBGRAPH_NAME = "subgraph.name"  # the name Apollo's router gives this attribute


# `with stage(PARSE) as span:` — the span, or None (tracing off; then it costs a call)
stage = span


def describe_request(operation: OperationDefinitionNode) -> None:
    """Names the client's operation on the current span (the request's server span)."""
    if TRACING.on:
        name = operation.name.value if operation.name else None
        describe_operation(trace.get_current_span(), operation.operation.value, name)


def subgraph_span(subgraph: str, url: str | None, document: str | None) -> AbstractContextManager[Span | None]:
    """The client span of one request to a subgraph, current for the `with` block."""
    if not TRACING.on:
        return NO_SPAN  # before building its name and attributes
    return graphql_client_span(f"subgraph {subgraph}", url, document, attributes={SUBGRAPH_NAME: subgraph})


def record_answer(fetch_span: Span, status: int, answer: dict[str, Any] | None) -> None:
    """The subgraph answered: its HTTP status, and its first error's code when it sent errors."""
    fetch_span.set_attribute("http.response.status_code", status)
    errors = answer.get("errors") if answer else None
    if errors:
        first = errors[0] if isinstance(errors, list) and errors else None
        extensions = first.get("extensions") if isinstance(first, dict) else None
        code = extensions.get("code") if isinstance(extensions, dict) else None
        fetch_span.set_attribute("error.type", code if isinstance(code, str) else "GRAPHQL_ERROR")
        fetch_span.set_status(StatusCode.ERROR, "the subgraph answered with errors")


def record_failure(fetch_span: Span, code: str, status: int | None) -> None:
    """No usable answer: timed out, unreachable or not GraphQL (`code` as in the response's errors)."""
    if status is not None:
        fetch_span.set_attribute("http.response.status_code", status)
    fetch_span.set_attribute("error.type", code)
    fetch_span.set_status(StatusCode.ERROR, code)
