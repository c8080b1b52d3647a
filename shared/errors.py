"""Typed domain errors.

Every error a client may act on is a `DomainError` with a stable `code`; the subgraph app factory
lets these through error masking with `extensions.code` set, and masks everything else behind a
request id. Services raise these from the service layer; GraphQL resolvers do not translate them.
"""

from __future__ import annotations

from typing import Any, ClassVar


class DomainError(Exception):
    """An error the caller caused or can act on; its `code` is part of the API."""

    code: ClassVar[str] = "BAD_REQUEST"

    def __init__(self, message: str, **extensions: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extensions = extensions

    def as_extensions(self) -> dict[str, Any]:
        return {"code": self.code, **self.extensions}


class InvalidInput(DomainError):
    code = "BAD_USER_INPUT"


class NotFound(DomainError):
    code = "NOT_FOUND"


class Unauthenticated(DomainError):
    code = "UNAUTHENTICATED"


class Forbidden(DomainError):
    code = "FORBIDDEN"


class Conflict(DomainError):
    """The request clashes with existing state (a duplicate, a wrong state transition)."""

    code = "CONFLICT"


class IdempotencyKeyReused(DomainError):
    code = "IDEMPOTENCY_KEY_REUSED"


class InsufficientPoints(DomainError):
    code = "INSUFFICIENT_POINTS"


class LimitExceeded(DomainError):
    code = "LIMIT_EXCEEDED"


class TooComplex(DomainError):
    """A query over the depth, alias, token or cost limits."""

    code = "QUERY_TOO_COMPLEX"


class PayloadTooLarge(DomainError):
    code = "PAYLOAD_TOO_LARGE"


class UpstreamError(DomainError):
    """Another service could not be reached, or answered with an error.

    `extensions` say which service and why (`reason`); when the service answered with GraphQL
    errors, `upstreamCodes` lists their codes so a caller can react to, say, `INSUFFICIENT_POINTS`.
    """

    code = "UPSTREAM_ERROR"


class ServiceUnavailable(DomainError):
    """A dependency (the database) cannot be reached right now; nothing was done, try again."""

    code = "SERVICE_UNAVAILABLE"

    def __init__(self, message: str, **extensions: Any) -> None:
        super().__init__(message, retryable=True, **extensions)


class DeadlineExceeded(DomainError):
    """The caller's time ran out. `outcome` says what became of the work: "NOT_APPLIED" when
    nothing was committed, "UNKNOWN" when something may have been (retry with the same key)."""

    code = "DEADLINE_EXCEEDED"

    def __init__(self, message: str, *, outcome: str, **extensions: Any) -> None:
        super().__init__(message, outcome=outcome, retryable=True, **extensions)
