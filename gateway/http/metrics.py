"""Prometheus metrics of the gateway, served at `/metrics` in the text exposition format.

Client requests by operation type and outcome (count and latency), requests in flight, subgraph
requests by subgraph and outcome (count and latency) and those saved by deduplication, and
document/plan cache hits and misses.
Each app gets a registry of its own, so two gateways in one process (tests) do not mix figures.
Under the worker supervisor (gateway/serving) every worker writes its figures to the run's
PROMETHEUS_MULTIPROC_DIR, and a scrape answered by any worker sums them over all workers.
Label children are looked up once and kept: the hot path does a dict lookup and an increment.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Awaitable, Callable
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.requests import Request
from starlette.responses import Response

from ..execution.observer import Observer

# request latencies: sub-millisecond gateway work up to slow subgraphs near the default timeout
_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

OUTCOMES = ("ok", "partial", "error", "rejected")


def outcome_of(status: int, body: dict[str, Any] | None) -> str:
    """ok: data and no errors; partial: data and errors; error: errors and no data (or a 5xx);
    rejected: refused before execution (invalid document, limits, authentication, trusted documents)."""
    if status >= 500:
        return "error"
    if body is None or "data" not in body:
        return "rejected"
    if not body.get("errors"):
        return "ok"
    return "partial" if body.get("data") is not None else "error"


class GatewayMetrics(Observer):
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry(auto_describe=True)
        r = self.registry
        self._requests = Counter(
            "gateway_requests", "GraphQL requests answered, by operation type and outcome.",
            ["operation_type", "outcome"], registry=r,
        )
        self._request_seconds = Histogram(
            "gateway_request_duration_seconds", "Time from receiving a GraphQL request to answering it.",
            ["operation_type", "outcome"], buckets=_BUCKETS, registry=r,
        )
        self.in_flight = Gauge(
            "gateway_requests_in_flight", "GraphQL requests being worked on.", registry=r,
            multiprocess_mode="livesum",  # over the workers alive (ignored with one process)
        )
        self.subscriptions = Gauge(
            "gateway_subscriptions_active", "Subscriptions running (WebSocket and SSE).", registry=r,
            multiprocess_mode="livesum",
        )
        self._subgraph_requests = Counter(
            "gateway_subgraph_requests", "Requests sent to subgraphs, by subgraph and outcome.",
            ["subgraph", "outcome"], registry=r,
        )
        self._subgraph_seconds = Histogram(
            "gateway_subgraph_request_duration_seconds", "Time a subgraph took to answer (or fail).",
            ["subgraph"], buckets=_BUCKETS, registry=r,
        )
        self._deduplicated = Counter(
            "gateway_subgraph_requests_deduplicated",
            "Queries not sent because an identical one to the same subgraph was in flight.",
            ["subgraph"], registry=r,
        )
        self._plan_cache = Counter("gateway_plan_cache", "Query plan cache lookups.", ["result"], registry=r)
        self._document_cache = Counter(
            "gateway_document_cache", "Parsed-and-validated document cache lookups.", ["result"], registry=r
        )
        self._plan_hit, self._plan_miss = self._plan_cache.labels("hit"), self._plan_cache.labels("miss")
        self._doc_hit, self._doc_miss = self._document_cache.labels("hit"), self._document_cache.labels("miss")
        self._request_children: dict[tuple[str, str], tuple[Any, Any]] = {}
        self._subgraph_children: dict[tuple[str, str], tuple[Any, Any]] = {}

    # ---- Observer (called by the pipeline) ----------------------------------------------------

    def document_cache(self, hit: bool) -> None:
        (self._doc_hit if hit else self._doc_miss).inc()

    def plan_cache(self, hit: bool) -> None:
        (self._plan_hit if hit else self._plan_miss).inc()

    def subgraph_request(self, subgraph: str, seconds: float, outcome: str) -> None:
        key = (subgraph, outcome)
        children = self._subgraph_children.get(key)
        if children is None:
            children = (self._subgraph_requests.labels(subgraph, outcome), self._subgraph_seconds.labels(subgraph))
            self._subgraph_children[key] = children
        children[0].inc()
        children[1].observe(seconds)

    def subgraph_deduplicated(self, subgraph: str) -> None:
        self._deduplicated.labels(subgraph).inc()

    # ---- the HTTP layer -----------------------------------------------------------------------

    def request(self, operation_type: str | None, outcome: str, seconds: float) -> None:
        key = (operation_type or "unknown", outcome)
        children = self._request_children.get(key)
        if children is None:
            children = (self._requests.labels(*key), self._request_seconds.labels(*key))
            self._request_children[key] = children
        children[0].inc()
        children[1].observe(seconds)

    async def endpoint(self, request: Request) -> Response:
        return Response(generate_latest(self.scraped_registry()), media_type=CONTENT_TYPE_LATEST)

    def scraped_registry(self) -> CollectorRegistry:
        """This process's registry; with several workers, a registry reading every worker's files."""
        directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        if not directory:
            return self.registry
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=directory)
        return registry


def bearer_protected(
    endpoint: Callable[[Request], Awaitable[Response]], token: str | None
) -> Callable[[Request], Awaitable[Response]]:
    """`endpoint` answering only `Authorization: Bearer <token>` (401 otherwise); as is without a token."""
    if not token:
        return endpoint
    expected = f"Bearer {token}".encode()

    async def protected(request: Request) -> Response:
        given = request.headers.get("authorization", "").encode()
        if not hmac.compare_digest(given, expected):
            return Response("metrics need the bearer token\n", status_code=401, headers={"www-authenticate": "Bearer"})
        return await endpoint(request)

    return protected
