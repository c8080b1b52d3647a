"""HTTP to subgraphs: one pooled keep-alive connection pool per subgraph, each with its timeout.

A request with a deadline (`time.monotonic()`) waits no longer than it allows, and tells the
subgraph how long it has (`x-request-timeout-ms`, a little less than what remains, so that the
subgraph's own refusal arrives before the gateway gives up). A request whose deadline has passed
is not sent.

With tracing on, each request sent is a client span whose context the subgraph receives
(`traceparent`); a deduplicated query shares the span of the request that was sent.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Mapping
from functools import partial
from dataclasses import dataclass, field
from typing import Any

import orjson

from shared.telemetry import TRACE_HEADERS, with_current_context

from .http1 import Http1Pool, HttpError, ResponseTooLarge
from .observer import NO_OBSERVER, Observer
from .tracing import record_answer, record_failure, subgraph_span


DEADLINE_HEADER = "x-request-timeout-ms"


class SubgraphError(Exception):
    """A subgraph could not be reached or did not answer with GraphQL.

    `outcome` is said for mutations only: "NOT_APPLIED" when the request surely did nothing (not
    sent, connection refused), "UNKNOWN" when it may have been applied (sent, no answer)."""

    def __init__(
        self, subgraph: str, message: str, code: str = "SUBGRAPH_ERROR", outcome: str | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.subgraph = subgraph
        self.code = code
        self.outcome = outcome
        self.status = status  # the HTTP status, when the subgraph answered at all

    def extensions(self) -> dict[str, Any]:
        extensions: dict[str, Any] = {"code": self.code, "serviceName": self.subgraph}
        if self.outcome is not None:
            extensions["outcome"] = self.outcome
        return extensions


def _time_for_subgraph(left: float) -> int:
    """Milliseconds to give a subgraph out of `left` seconds: a tenth less, at most 100 ms less."""
    return max(0, int((left - min(0.1, left / 10)) * 1000))


@dataclass(slots=True)
class SubgraphSettings:
    timeout_seconds: float = 30.0
    max_connections: int = 100  # per subgraph; further requests wait for a free connection
    max_response_bytes: int = 64 * 1024 * 1024
    # identical queries in flight to one subgraph at once are sent once (mutations never are)
    deduplicate: bool = True
    # CA certificates (PEM) that https subgraphs are verified against, instead of the system's
    ca_file: str | None = None
    # per-subgraph overrides: name -> timeout in seconds
    timeouts: dict[str, float] = field(default_factory=dict)
    # per-subgraph URL overrides (e.g. to point a composed supergraph at other hosts)
    urls: dict[str, str] = field(default_factory=dict)


_HEADERS = {"content-type": "application/json", "accept": "application/json"}


@dataclass(slots=True)
class _Answer:
    """A subgraph's answer, possibly shared by deduplicated callers."""

    body: bytes
    parsed: dict[str, Any] | None  # for the first caller only: the executor merges into what it gets
    status: int = 200

    def take(self) -> dict[str, Any]:
        parsed, self.parsed = self.parsed, None
        return parsed if parsed is not None else orjson.loads(self.body)


_PER_REQUEST = frozenset(("x-request-id", *TRACE_HEADERS))


def _identity(headers: Mapping[str, str] | None) -> tuple[tuple[str, str], ...]:
    # who is asking (authorization and other forwarded headers); the request id and the trace
    # context differ every time
    if not headers:
        return ()
    return tuple(sorted((name.lower(), value) for name, value in headers.items() if name.lower() not in _PER_REQUEST))


class SubgraphClients:
    def __init__(
        self, urls: Mapping[str, str], settings: SubgraphSettings | None = None, observer: Observer = NO_OBSERVER
    ) -> None:
        self.settings = settings or SubgraphSettings()
        self.observer = observer
        self._inflight: dict[tuple[str, bytes, tuple[tuple[str, str], ...]], asyncio.Future[_Answer]] = {}
        self.urls = {name: self.settings.urls.get(name, url) for name, url in urls.items()}
        self._pools: dict[str, Http1Pool] = {}
        self._ssl = ssl.create_default_context(cafile=self.settings.ca_file) if self.settings.ca_file else None
        self.ssl_context = self._ssl  # for subscriptions' WebSockets to https subgraphs

    def pool(self, subgraph: str) -> Http1Pool:
        found = self._pools.get(subgraph)
        if found is None:
            url = self.urls.get(subgraph)
            if url is None:
                raise SubgraphError(subgraph, f'unknown subgraph "{subgraph}"')
            try:
                found = Http1Pool(
                    url,
                    max_connections=self.settings.max_connections,
                    timeout_seconds=self.settings.timeouts.get(subgraph, self.settings.timeout_seconds),
                    max_response_bytes=self.settings.max_response_bytes,
                    headers=_HEADERS,
                    ssl_context=self._ssl,
                )
            except ValueError as error:
                raise SubgraphError(subgraph, f'subgraph "{subgraph}" has an unusable URL: {error}') from error
            self._pools[subgraph] = found
        return found

    async def post(
        self,
        subgraph: str,
        payload: dict[str, Any],
        headers: Mapping[str, str] | None = None,
        *,
        repeatable: bool = True,
        deadline: float | None = None,
    ) -> dict[str, Any]:
        """Send one GraphQL request; `repeatable` is false for mutations (never sent twice).

        With `deduplicate` on, a query identical to one already in flight to the same subgraph
        (same body, same forwarded headers but the request id) waits for that one's answer
        instead of being sent again; each caller still gets its own parsed copy.
        """
        body = orjson.dumps(payload)
        document = payload.get("query")  # for the span only
        identity = _identity(headers)  # before the deadline header: that differs every time
        timeout = None
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise SubgraphError(
                    subgraph, "the request's deadline passed before the subgraph was called", "DEADLINE_EXCEEDED",
                    None if repeatable else "NOT_APPLIED",
                )
            headers = {**(headers or {}), DEADLINE_HEADER: str(_time_for_subgraph(left))}
            timeout = left
        if not (repeatable and self.settings.deduplicate):
            return (await self._fetch(subgraph, body, headers, repeatable, timeout, document)).take()
        key = (subgraph, body, identity)
        task = self._inflight.get(key)
        if task is None:
            # a task of its own, so the first caller giving up does not fail the others
            task = asyncio.ensure_future(self._fetch(subgraph, body, headers, repeatable, timeout, document))
            self._inflight[key] = task
            task.add_done_callback(partial(self._finished, key))
        else:
            self.observer.subgraph_deduplicated(subgraph)
        return (await asyncio.shield(task)).take()

    def _finished(self, key: tuple[str, bytes, tuple[tuple[str, str], ...]], task: asyncio.Future[_Answer]) -> None:
        self._inflight.pop(key, None)
        if not task.cancelled():
            task.exception()  # marks it retrieved: every caller may have given up by now

    async def _fetch(
        self, subgraph: str, body: bytes, headers: Mapping[str, str] | None, repeatable: bool, timeout: float | None,
        document: str | None = None,
    ) -> _Answer:
        with subgraph_span(subgraph, self.urls.get(subgraph), document) as span:
            if span is not None:  # the subgraph's span becomes a child of this one
                headers = with_current_context(headers)
            started = time.perf_counter()
            try:
                answer = await self._send(subgraph, body, headers, repeatable, timeout)
            except SubgraphError as error:
                self.observer.subgraph_request(
                    subgraph, time.perf_counter() - started, error.code.lower().removeprefix("subgraph_")
                )
                if span is not None:
                    record_failure(span, error.code, error.status)
                raise
            outcome = "graphql_errors" if answer.parsed and answer.parsed.get("errors") else "ok"
            self.observer.subgraph_request(subgraph, time.perf_counter() - started, outcome)
            if span is not None:
                record_answer(span, answer.status, answer.parsed)
            return answer

    async def _send(
        self, subgraph: str, body: bytes, headers: Mapping[str, str] | None, repeatable: bool, timeout: float | None
    ) -> _Answer:
        pool = self.pool(subgraph)
        unknown = None if repeatable else "UNKNOWN"  # a mutation that may have been applied
        try:
            response = await pool.post(body, headers, repeatable=repeatable, timeout=timeout)
        except TimeoutError as error:
            raise SubgraphError(subgraph, f'subgraph "{subgraph}" timed out', "SUBGRAPH_TIMEOUT", unknown) from error
        except ResponseTooLarge as error:
            raise SubgraphError(subgraph, f'subgraph "{subgraph}": {error}', "SUBGRAPH_BAD_RESPONSE", unknown) from error
        except ConnectionRefusedError as error:  # nothing was sent
            raise SubgraphError(
                subgraph, f'subgraph "{subgraph}" could not be reached: {type(error).__name__}', "SUBGRAPH_UNREACHABLE",
                None if repeatable else "NOT_APPLIED",
            ) from error
        except (HttpError, OSError) as error:
            raise SubgraphError(
                subgraph, f'subgraph "{subgraph}" could not be reached: {type(error).__name__}', "SUBGRAPH_UNREACHABLE",
                unknown,
            ) from error
        try:
            parsed = orjson.loads(response.body)
        except orjson.JSONDecodeError:
            parsed = None
        if not isinstance(parsed, dict) or ("data" not in parsed and "errors" not in parsed):
            raise SubgraphError(
                subgraph,
                f'subgraph "{subgraph}" answered HTTP {response.status} without a GraphQL response',
                "SUBGRAPH_BAD_RESPONSE",
                status=response.status,
            )
        return _Answer(response.body, parsed, response.status)

    async def aclose(self) -> None:
        pools, self._pools = self._pools, {}
        await asyncio.gather(*(pool.aclose() for pool in pools.values()))
