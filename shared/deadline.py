"""The caller's deadline, carried through a request and passed on to the services it calls.

A caller says how long it will wait with `x-request-timeout-ms` (relative, so the clocks of two
machines need not agree). The subgraph middleware turns it into a deadline on this process's
monotonic clock for the request's context; statements are bounded by what remains of it, a
transaction whose deadline has passed is rolled back rather than committed, and calls to other
services carry the remainder on.

The request also notes whether it may have changed anything yet (a commit, a call to another
service), so a deadline error can say honestly whether its work was "NOT_APPLIED" or the outcome
is "UNKNOWN".
"""

from __future__ import annotations

import contextvars
import time
from contextvars import ContextVar
from dataclasses import dataclass

from shared.errors import DeadlineExceeded

HEADER = "x-request-timeout-ms"
# Longest time a caller may ask for (a day): anything beyond is as good as none.
_MAX_MS = 86_400_000


@dataclass(slots=True)
class RequestTime:
    deadline: float | None  # time.monotonic() by which the caller gives up; None: no deadline
    effects: bool = False  # something may have been committed here or in a called service


_current: ContextVar[RequestTime | None] = ContextVar("request_time", default=None)


def parse_timeout_ms(value: str | None) -> float | None:
    """Seconds from a header value; None when absent or not a plain non-negative integer."""
    if not value or not value.isdigit() or len(value) > 9:
        return None
    return min(int(value), _MAX_MS) / 1000


def begin_request(timeout_seconds: float | None) -> object:
    """Starts the request's clock (in the current context); returns a token for `end_request`."""
    deadline = None if timeout_seconds is None else time.monotonic() + timeout_seconds
    return _current.set(RequestTime(deadline))


def end_request(token: object) -> None:
    _current.reset(token)  # type: ignore[arg-type]


def detached_context() -> contextvars.Context:
    """A copy of the current context without the request's clock, for tasks that outlive the
    request on purpose (a saga driven on in the background after the caller had its answer):
    `asyncio.create_task(work, context=detached_context())`."""
    context = contextvars.copy_context()
    context.run(_current.set, None)
    return context


def remaining() -> float | None:
    """Seconds left before the caller's deadline (may be negative), or None without one."""
    current = _current.get()
    if current is None or current.deadline is None:
        return None
    return current.deadline - time.monotonic()


def note_effects() -> None:
    """Something may have changed: a transaction committed, or another service was called."""
    current = _current.get()
    if current is not None:
        current.effects = True


def outcome() -> str:
    current = _current.get()
    return "UNKNOWN" if current is not None and current.effects else "NOT_APPLIED"


def exceeded(what: str) -> DeadlineExceeded:
    """The typed error for a deadline that ran out while doing `what`."""
    return DeadlineExceeded(f"out of time: {what}", outcome=outcome())


def check_time_left(what: str) -> None:
    """Raises `DeadlineExceeded` when the caller's deadline has passed."""
    left = remaining()
    if left is not None and left <= 0:
        raise exceeded(what)


def outgoing_header() -> dict[str, str]:
    """The header passing what remains of the deadline to a called service (empty without one)."""
    left = remaining()
    if left is None:
        return {}
    return {HEADER: str(max(0, int(left * 1000)))}
