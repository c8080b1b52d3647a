"""The one retry of whole transactions: on serialization failures and deadlocks, with jittered backoff.

PostgreSQL asks the client to run a transaction again when SERIALIZABLE isolation finds a conflict
(SQLSTATE 40001) or when it broke a deadlock by aborting this transaction (40P01). Nothing of the
aborted attempt was committed, so running all of it again is safe; running part of it is not, which
is why the unit of retry is the whole transaction and why work inside one must never call another
service. The error reaches us either wrapped by SQLAlchemy (`DBAPIError`, the driver's error in
`orig`) or, for statements run on the asyncpg connection directly, as the driver's own exception.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

# Serialization failure, deadlock detected.
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})
DEFAULT_ATTEMPTS = 8


def _sqlstate(error: BaseException) -> str | None:
    """The SQLSTATE of a driver error, of SQLAlchemy's wrapper around one, or None."""
    state = getattr(error, "sqlstate", None)  # asyncpg's own exceptions
    if state is not None:
        return state
    orig = getattr(error, "orig", None)  # SQLAlchemy's DBAPIError: the adapted driver error
    if orig is None:
        return None
    return getattr(orig, "sqlstate", None) or getattr(orig.__cause__, "sqlstate", None)


def is_retryable(error: BaseException) -> bool:
    """True when the database asks for the whole transaction to be run again."""
    return _sqlstate(error) in RETRYABLE_SQLSTATES


def backoff(attempt: int) -> float:
    """Seconds to wait before attempt `attempt + 1`: full jitter over an exponential ceiling
    (10 ms after the first failure, doubling), so colliding transactions spread out."""
    return random.uniform(0, 0.005 * 2**attempt)


async def retrying(attempt: Callable[[], Awaitable[T]], *, attempts: int = DEFAULT_ATTEMPTS) -> T:
    """Awaits `attempt()` until it succeeds, retrying it on retryable errors up to `attempts` times.

    `attempt` must open and finish its own transaction: a retry starts from nothing."""
    for number in range(1, attempts + 1):
        try:
            return await attempt()
        except Exception as error:
            if number == attempts or not is_retryable(error):
                raise
        await asyncio.sleep(backoff(number))
    raise AssertionError("unreachable")
