"""Per-client rate limits: a token bucket per caller, in this process.

A caller is the subject of its verified bearer token (so one member's many devices share a
bucket), else the client's address. Each bucket holds up to `burst` requests and refills at
`rate` per second; a request finding it empty is answered 429 with `RATE_LIMITED` and a
`Retry-After` header, before any subgraph is called. Buckets live in memory, bounded: the least
recently seen callers are forgotten first (a forgotten caller starts with a full bucket, which is
what it would have by then anyway). With N gateway processes a caller gets N times the rate.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable

import orjson
from starlette.requests import Request
from starlette.responses import Response

from ..execution.pipeline import GraphQLRequest


class TokenBuckets:
    def __init__(
        self, rate: float, burst: int, *, max_callers: int = 100_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("a rate limit needs a positive rate and a burst of at least 1")
        self.rate = rate
        self.burst = burst
        self.max_callers = max_callers
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # caller -> (tokens, when)

    def take(self, caller: str) -> float:
        """Takes one request from the caller's bucket: 0 when allowed, else seconds to wait."""
        now = self.clock()
        tokens, then = self._buckets.pop(caller, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - then) * self.rate)
        wait = 0.0
        if tokens >= 1:
            tokens -= 1
        else:
            wait = (1 - tokens) / self.rate
        self._buckets[caller] = (tokens, now)  # most recently seen last
        if len(self._buckets) > self.max_callers:
            self._buckets.popitem(last=False)
        return wait


def caller_of(request: Request) -> str:
    """A verified token's subject (set by the token hook), else the client's address."""
    principal = getattr(request.state, "principal", None)
    subject = getattr(principal, "subject", None)
    if subject:
        return f"{principal.kind.value}:{subject}"  # type: ignore[union-attr]
    return f"address:{request.client.host if request.client else '-'}"


def rate_limit_hook(buckets: TokenBuckets) -> Callable[[Request, GraphQLRequest], Awaitable[Response | None]]:
    async def limit(request: Request, graphql_request: GraphQLRequest) -> Response | None:
        wait = buckets.take(caller_of(request))
        if not wait:
            return None
        seconds = max(1, math.ceil(wait))
        body = {
            "errors": [
                {
                    "message": f"Too many requests; try again in {seconds} s.",
                    "extensions": {"code": "RATE_LIMITED", "retryable": True, "retryAfterSeconds": seconds},
                }
            ]
        }
        return Response(
            orjson.dumps(body), status_code=429, media_type="application/json", headers={"retry-after": str(seconds)}
        )

    return limit
