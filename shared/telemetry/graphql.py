"""GraphQL attributes of spans (OpenTelemetry's semantic conventions for GraphQL servers).

The operation's type is read from the document's text rather than from a parsed document: the
span wants it before (or apart from) the parse, and a second parse would cost more than the span.
Only spans use it; a document it misreads gets a missing attribute, never a wrong answer.
"""

from __future__ import annotations

import re

from opentelemetry.trace import Span

OPERATION_TYPE = "graphql.operation.type"
OPERATION_NAME = "graphql.operation.name"

_LEADING = re.compile(r"\s*(query|mutation|subscription)\b\s*([_A-Za-z][_0-9A-Za-z]*)?")


def operation_of(document: str | None, name: str | None = None) -> tuple[str | None, str | None]:
    """(type, name) of the operation `document` runs: the one called `name` when given, else the
    first; a document that opens with `{` is an anonymous query."""
    if not document:
        return None, name
    if name:
        named = re.search(rf"\b(query|mutation|subscription)\s+{re.escape(name)}\b", document)
        return (named.group(1) if named else None), name
    leading = _LEADING.match(document)
    if leading:
        return leading.group(1), leading.group(2)
    return ("query" if document.lstrip().startswith("{") else None), None


def describe_operation(span: Span, operation_type: str | None, operation_name: str | None) -> None:
    if operation_type:
        span.set_attribute(OPERATION_TYPE, operation_type)
    if operation_name:
        span.set_attribute(OPERATION_NAME, operation_name)
