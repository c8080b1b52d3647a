"""How many subscriptions may run at once: in the whole gateway process, and on one connection.

Each subscription holds a subgraph WebSocket and a task for as long as it runs, so both are
bounded; beyond a limit the subscription is refused with `SUBSCRIPTION_LIMIT_EXCEEDED` before
any subgraph is contacted.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import Gauge

LIMIT_CODE = "SUBSCRIPTION_LIMIT_EXCEEDED"


def limit_error(message: str, limit: int) -> dict[str, Any]:
    return {"message": message, "extensions": {"code": LIMIT_CODE, "limit": limit}}


class SubscriptionSlots:
    """The process-wide count (one event loop per worker process, so no lock is needed)."""

    def __init__(self, limit: int | None, gauge: Gauge | None = None) -> None:
        self.limit = limit
        self.active = 0
        self.gauge = gauge  # the metrics' count of running subscriptions

    def acquire(self) -> dict[str, Any] | None:
        """Take a slot, or the error saying why not."""
        if self.limit is not None and self.active >= self.limit:
            return limit_error(f"The gateway runs its maximum of {self.limit} subscriptions.", self.limit)
        self.active += 1
        if self.gauge is not None:
            self.gauge.inc()
        return None

    def release(self) -> None:
        self.active -= 1
        if self.gauge is not None:
            self.gauge.dec()
