"""Recharging a video membership through a partner platform, without ever guessing the outcome.

A recharge moves value on someone else's system, over a network that can lose the answer. So:
every request carries the same idempotency key and is signed (CONTRACT.md); a timeout, a dropped
connection, a 5xx or an answer outside the contract means "we do not know", which the status
lookup resolves before anything is posted again; retries back off exponentially with jitter
within a bounded number of requests and a bounded total time; and when the bounds run out the
answer is `Unknown`, for the saga to resume later with the same key. Every request is returned
as an `Attempt` for the delivery log.

The `httpx.AsyncClient` is the process's (passed in, never closed here). Each request gets its
own time limit, enforced by httpx per phase and by `asyncio.timeout` as a whole, so a partner that
trickles its answer byte by byte cannot hold a redemption open past the limit.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from services.benefits.delivery.contract import (
    FulfilmentEndpoint,
    Reading,
    RechargeRequest,
    check_key,
    read_recharge,
    read_revoke,
    read_status,
)
from services.benefits.delivery.outcomes import (
    Attempt,
    AttemptKind,
    AttemptOutcome,
    Delivered,
    RechargeOutcome,
    Refused,
    RevokeOutcome,
    Revoked,
    Unknown,
)
from services.benefits.webhooks.signing import SIGNATURE_HEADER, sign

__all__ = ["DeliveryClient", "RetryPolicy"]

_Reader = Callable[[int, bytes], Reading]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 6  # HTTP requests in all, status lookups included
    max_total_seconds: float = 20.0  # from the first request until we give up
    request_timeout: float = 5.0  # one request, connect to last byte
    connect_timeout: float = 2.0
    base_delay: float = 0.25  # the first backoff step; each retry doubles it …
    max_delay: float = 4.0  # … up to this
    max_answer_bytes: int = 64 * 1024  # a contract answer is a few hundred bytes

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        for name in ("max_total_seconds", "request_timeout", "connect_timeout", "base_delay", "max_delay"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive")

    def delay(self, retry: int, rand: float) -> float:
        """Backoff before retry number `retry` (0-based): "equal jitter", half of the exponential
        step fixed and half random, so retries from many redemptions spread out but never bunch
        at zero."""
        step = min(self.max_delay, self.base_delay * 2**retry)
        return step / 2 + rand * step / 2


class _Run:
    """One delivery's requests: the bounds, the backoff, the signing and the log."""

    def __init__(self, client: DeliveryClient, endpoint: FulfilmentEndpoint) -> None:
        self.client, self.endpoint, self.policy = client, endpoint, client.policy
        self.attempts: list[Attempt] = []
        self.deadline = client.monotonic() + self.policy.max_total_seconds
        self.retries = 0
        self.wait_next = False  # back off before the next request
        self.retry_after = 0.0
        self.exhausted = ""

    async def request(self, kind: AttemptKind, method: str, url: str, body: bytes, reader: _Reader) -> Reading | None:
        """Send one request within the bounds and read its answer; None when the bounds are used up."""
        policy, client = self.policy, self.client
        if len(self.attempts) >= policy.max_attempts:
            self.exhausted = f"{policy.max_attempts} requests"
            return None
        if self.wait_next:
            delay = max(policy.delay(self.retries, client.jitter()), min(self.retry_after, policy.max_delay))
            self.retries += 1
            if client.monotonic() + delay >= self.deadline:
                self.exhausted = f"{policy.max_total_seconds:g} s"
                return None
            await client.sleep(delay)
        remaining = self.deadline - client.monotonic()
        if remaining <= 0:
            self.exhausted = f"{policy.max_total_seconds:g} s"
            return None
        started_at, started = datetime.fromtimestamp(client.wall_clock(), UTC), client.monotonic()
        status, reading = await self._send(method, url, body, min(policy.request_timeout, remaining), reader)
        latency_ms = (client.monotonic() - started) * 1000
        self.attempts.append(
            Attempt(started_at, kind, status, reading.error, latency_ms, reading.outcome, reading.detail)
        )
        # a clear "never received" is answered by posting at once; everything else backs off first
        self.wait_next = reading.outcome is not AttemptOutcome.NOT_RECEIVED
        return reading

    async def _send(
        self, method: str, url: str, body: bytes, timeout: float, reader: _Reader
    ) -> tuple[int | None, Reading]:
        # signed per request, so a retry minutes later is still inside the partner's window
        signature = sign(body, self.endpoint.secrets, int(self.client.wall_clock()))
        headers = {SIGNATURE_HEADER: signature, "accept": "application/json"}
        if body:
            headers["content-type"] = "application/json"
        phases = httpx.Timeout(timeout, connect=min(self.policy.connect_timeout, timeout))
        http = self.client.http
        request = http.build_request(method, url, content=body, headers=headers, timeout=phases)
        self.retry_after = 0.0
        try:
            async with asyncio.timeout(timeout):
                response = await http.send(request, stream=True)
                try:
                    content = await _read_capped(response, self.policy.max_answer_bytes)
                finally:
                    await response.aclose()
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout):
            return None, Reading(AttemptOutcome.NOT_SENT, "connect_error")
        except (httpx.TimeoutException, TimeoutError):
            return None, Reading(AttemptOutcome.UNANSWERED, "timeout")
        except httpx.TransportError:
            return None, Reading(AttemptOutcome.UNANSWERED, "transport_error")
        self.retry_after = _retry_after(response)
        if content is None:
            return response.status_code, Reading(AttemptOutcome.MALFORMED, "answer_too_large")
        return response.status_code, reader(response.status_code, content)

    def unknown(self, why: str | None = None) -> Unknown:
        if why is None:
            why = f"gave up after {self.exhausted}"
            if self.attempts:
                last = self.attempts[-1]
                what = last.error or (f"HTTP {last.http_status}" if last.http_status else "")
                why += f"; the last {last.kind.value} request ended {last.outcome.value}"
                why += f" ({what})" if what else ""
        return Unknown(why, tuple(self.attempts))


class DeliveryClient:
    """Direct recharges through partners' fulfilment endpoints; one per process is plenty."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        policy: RetryPolicy | None = None,
        *,
        wall_clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.http = http
        self.policy = policy or RetryPolicy()
        self.wall_clock, self.monotonic, self.sleep, self.jitter = wall_clock, monotonic, sleep, jitter

    async def recharge(self, endpoint: FulfilmentEndpoint, request: RechargeRequest) -> RechargeOutcome:
        """Deliver `request` once, however many requests that takes; see the module docstring."""
        run = _Run(self, endpoint)
        body, key = request.body(), request.idempotency_key
        kind, may_repost = AttemptKind.RECHARGE, True
        while True:
            if kind is AttemptKind.RECHARGE:
                reading = await run.request(kind, "POST", endpoint.recharges_url(), body, read_recharge)
            else:
                reading = await run.request(kind, "GET", endpoint.recharge_url(key), b"", read_status)
            if reading is None:
                return run.unknown()
            outcome = reading.outcome
            if outcome is AttemptOutcome.SUCCEEDED:
                assert reading.reference is not None
                return Delivered(reading.reference, tuple(run.attempts))
            if outcome is AttemptOutcome.REFUSED:
                assert reading.reason is not None
                return Refused(reading.reason, reading.message or "", tuple(run.attempts))
            if kind is AttemptKind.RECHARGE:
                # A request that never connected is posted again; anything else may have been
                # processed, so the status lookup comes first. A rejected request (bad signature,
                # bad body) would be rejected again: only the lookup can still resolve it.
                may_repost = may_repost and outcome is not AttemptOutcome.REJECTED
                kind = AttemptKind.RECHARGE if outcome is AttemptOutcome.NOT_SENT else AttemptKind.STATUS
            elif outcome is AttemptOutcome.PENDING:
                kind = AttemptKind.STATUS  # received and in progress: ask again after a while
            elif may_repost:
                kind = AttemptKind.RECHARGE  # never received, or no lookup answer: the same key is safe
            elif outcome in (AttemptOutcome.NOT_SENT, AttemptOutcome.UNANSWERED):
                kind = AttemptKind.STATUS
            else:
                rejected = next(a.http_status for a in run.attempts if a.outcome is AttemptOutcome.REJECTED)
                return run.unknown(f"the partner rejected the recharge request (HTTP {rejected}) "
                                   f"and its status lookup ended {outcome.value}")

    async def revoke(self, endpoint: FulfilmentEndpoint, idempotency_key: str) -> RevokeOutcome:
        """Take back the recharge made under `idempotency_key` (or bar the key if it never arrived)."""
        run = _Run(self, endpoint)
        url = endpoint.revoke_url(check_key(idempotency_key))
        while True:
            reading = await run.request(AttemptKind.REVOKE, "POST", url, b"", read_revoke)
            if reading is None:
                return run.unknown()
            match reading.outcome:
                case AttemptOutcome.REVOKED:
                    return Revoked(tuple(run.attempts))
                case AttemptOutcome.REFUSED:
                    assert reading.reason is not None
                    return Refused(reading.reason, reading.message or "", tuple(run.attempts))
                case AttemptOutcome.REJECTED:
                    return run.unknown("the partner rejected the revoke request "
                                       f"(HTTP {run.attempts[-1].http_status})")
                case _:  # revoking is idempotent: repeating it is safe
                    continue


async def _read_capped(response: httpx.Response, limit: int) -> bytes | None:
    chunks, size = [], 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _retry_after(response: httpx.Response) -> float:
    if response.status_code not in (429, 503):
        return 0.0
    value = response.headers.get("retry-after", "")
    return float(value) if value.isdigit() else 0.0  # the HTTP-date form is not worth a parser here
