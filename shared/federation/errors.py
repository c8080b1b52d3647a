"""The error policy of every subgraph.

Our typed `DomainError`s reach the client with their message and a stable `extensions.code`.
GraphQL's own errors (syntax, validation) keep their message with a code of their own. Database
faults become typed too (`shared.database.faults`: SERVICE_UNAVAILABLE, DEADLINE_EXCEEDED) and are
logged as warnings without a traceback: the caller can act on them, and they come in floods. Anything
else is an internal error: logged with its traceback and the request id, and masked for the client
as "Internal server error" carrying that request id, so support can find it in the log.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError, GraphQLSyntaxError
from strawberry.extensions import SchemaExtension

from shared.database import faults
from shared.errors import DomainError
from shared.request_id import current_request_id

log = logging.getLogger("abg.errors")


def is_internal(error: GraphQLError) -> bool:
    original = error.original_error
    if original is None:
        return False  # a GraphQL error (parse, validation, variables): the client's to fix
    if isinstance(original, DomainError):
        return False
    if isinstance(original, GraphQLError):
        return is_internal(original)
    return True


def _original(error: GraphQLError) -> BaseException | None:
    original = error.original_error
    while isinstance(original, GraphQLError) and original.original_error is not None:
        original = original.original_error
    return original


def log_internal_errors(errors: list[GraphQLError]) -> None:
    for error in errors:
        if is_internal(error):
            original = error.original_error
            fault = faults.typed(_original(error))  # type: ignore[arg-type]
            if fault is not None:
                log.warning("%s at %s (request %s): %r", fault.code, error.path, current_request_id(), _original(error))
                continue
            log.error(
                "internal error at %s (request %s)",
                error.path,
                current_request_id(),
                exc_info=(type(original), original, original.__traceback__) if original else None,
            )


def present(error: GraphQLError) -> GraphQLError:
    """The client-facing form of one error."""
    original = _original(error)
    if original is not None and not isinstance(original, (DomainError, GraphQLError)):
        original = faults.typed(original) or original
    if isinstance(original, DomainError):
        return GraphQLError(
            original.message,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions=original.as_extensions(),
        )
    if original is None or isinstance(original, GraphQLError):
        extensions = dict(error.extensions or {})
        extensions.setdefault("code", _graphql_code(error))
        return GraphQLError(
            error.message,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions=extensions,
        )
    request_id = current_request_id()
    return GraphQLError(
        f"Internal server error (request id {request_id})",
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions={"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
    )


def _graphql_code(error: GraphQLError) -> str:
    """The code of one of GraphQL's own errors, in the gateway's words (and Apollo Server's): the
    document does not parse, does not validate (tagged where documents are validated), or a
    variable's value does not fit its type."""
    if isinstance(error, GraphQLSyntaxError):
        return "GRAPHQL_PARSE_FAILED"
    if error.path is None:
        # From execution, before any resolver: variables' values, or which operation to run.
        return "BAD_USER_INPUT" if error.message.startswith("Variable '$") else "BAD_REQUEST"
    return "BAD_REQUEST"


class ErrorPolicy(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is not None and result.errors:
            result.errors = [present(error) for error in result.errors]

    def on_stream_result(self, result: Any) -> Iterator[None]:  # type: ignore[override]
        # A subscription's results are sent one by one while its operation is still running, so
        # each gets the policy here (on_operation only sees the stream's end).
        errors = getattr(result, "errors", None)
        if errors:
            result.errors = [present(error) for error in errors]
        yield
        # Here rather than in an extension of its own (every extension costs every request): the
        # context's DataLoaders cache for its life, which over a WebSocket is the connection's,
        # so they are forgotten after each result and the next event reads afresh.
        forget = getattr(self.execution_context.context, "forget_loaders", None)
        if forget is not None:
            forget()


def tag_parse_errors(errors: list[GraphQLError]) -> None:
    """Gives syntax errors their code in place: they escape the operation (and `ErrorPolicy`)
    because documents are parsed in an extension's hook."""
    for error in errors:
        if isinstance(error, GraphQLSyntaxError) and not (error.extensions or {}).get("code"):
            error.extensions = {**(error.extensions or {}), "code": "GRAPHQL_PARSE_FAILED"}
