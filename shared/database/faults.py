"""Database faults as typed errors: an unreachable database, a statement out of time.

A database that is down, restarting or out of connections surfaces in many shapes: a failure to
connect (refused, or the Unix socket gone: `DatabaseUnreachable` from our creator), asyncpg's connection errors (SQLSTATE class
08, or 57P01-57P03 while the server shuts down or starts), SQLAlchemy's wrappers around either
(`connection_invalidated` set when it recognised a lost connection) and its pool's `TimeoutError`
when no connection came free. All of them mean the same to a caller: nothing was done, try again
shortly (`SERVICE_UNAVAILABLE`, retryable). A statement cancelled by `statement_timeout` (57014)
means the caller's time ran out (`DEADLINE_EXCEEDED`; the transaction was rolled back).
"""

from __future__ import annotations

from typing import Any

import asyncpg
from sqlalchemy import exc as sa

from shared import deadline
from shared.errors import DomainError, ServiceUnavailable

# Admin shutdown, crash shutdown, cannot connect now (starting or stopping), too many connections.
_UNAVAILABLE_STATES = frozenset({"57P01", "57P02", "57P03", "53300"})
_QUERY_CANCELED = "57014"


def _chain(error: BaseException) -> list[BaseException]:
    """The error, SQLAlchemy's wrapped driver error and their causes (each once, bounded)."""
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [error]
    while todo and len(seen) < 8:
        current = todo.pop()
        if current is None or any(current is s for s in seen):
            continue
        seen.append(current)
        todo.extend((getattr(current, "orig", None), current.__cause__))
    return seen


def _sqlstate(error: BaseException) -> str | None:
    state = getattr(error, "sqlstate", None)
    return state if isinstance(state, str) else None


def is_unavailable(error: BaseException) -> bool:
    """True when `error` says the database could not be reached or refused to serve."""
    for current in _chain(error):
        if isinstance(current, (sa.TimeoutError, sa.OperationalError, DatabaseUnreachable)):
            return True  # the pool's wait, a lost server, or no connection to be made
        if isinstance(current, sa.DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(current, asyncpg.PostgresConnectionError):
            return True
        if isinstance(current, asyncpg.InterfaceError) and "closed" in str(current):
            return True  # "connection is closed": the server went away under it
        state = _sqlstate(current)
        if state is not None and (state.startswith("08") or state in _UNAVAILABLE_STATES):
            return True
    return False


def is_statement_timeout(error: BaseException) -> bool:
    return any(_sqlstate(current) == _QUERY_CANCELED for current in _chain(error))


def typed(error: BaseException) -> DomainError | None:
    """The typed error a database fault stands for, or None when it is not one."""
    if is_statement_timeout(error):
        return deadline.exceeded("a statement ran out of time")
    if is_unavailable(error):
        # NOT_APPLIED unless this request had begun a commit (the connection may have died in it).
        return ServiceUnavailable(
            "the database is unavailable; try again shortly", reason="database", outcome=deadline.outcome()
        )
    return None


class DatabaseUnreachable(ConnectionError):
    """No connection could be made (refused, no socket, timed out): raised while connecting, so an
    `OSError` of any other origin is never mistaken for the database being down."""


async def connect(*args: Any, **kwargs: Any) -> asyncpg.Connection:
    """asyncpg's connect, its network failures made `DatabaseUnreachable` (the engine's creator)."""
    try:
        return await asyncpg.connect(*args, **kwargs)
    except (OSError, TimeoutError) as error:
        raise DatabaseUnreachable(f"cannot connect to the database: {type(error).__name__}") from error
