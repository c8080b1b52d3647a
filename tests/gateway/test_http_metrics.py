"""Prometheus metrics at /metrics: requests by type and outcome, subgraph requests, cache lookups."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from gateway.http.app import create_app
from gateway.http.settings import ServerSettings
from tests.gateway.kit.scenarios import Shop


@pytest.fixture
async def client(shop: Shop) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(shop.gateway(), ServerSettings(verify_tokens=True))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway.test") as client:
        yield client


async def samples(client: httpx.AsyncClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    found: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(found: dict, name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_counts_requests_by_operation_type_and_outcome(shop: Shop, client: httpx.AsyncClient) -> None:
    for _ in range(3):
        assert (await client.post("/graphql", json={"query": "{ me { name } }"})).status_code == 200
    await client.post("/graphql", json={"query": 'mutation { restock(upc: "p1", quantity: 1) }'})
    await client.post("/graphql", json={"query": "{ me { nope } }"})  # invalid: refused before execution
    await client.post("/graphql", json={"query": "{ me { name } }"}, headers={"authorization": "Bearer junk"})

    found = await samples(client)
    assert value(found, "gateway_requests_total", operation_type="query", outcome="ok") == 3
    assert value(found, "gateway_requests_total", operation_type="mutation", outcome="ok") == 1
    assert value(found, "gateway_requests_total", operation_type="query", outcome="rejected") == 1
    assert value(found, "gateway_requests_total", operation_type="unknown", outcome="rejected") == 1  # the 401
    assert value(found, "gateway_request_duration_seconds_count", operation_type="query", outcome="ok") == 3
    assert value(found, "gateway_request_duration_seconds_sum", operation_type="query", outcome="ok") > 0
    assert value(found, "gateway_requests_in_flight") == 0


async def test_counts_subgraph_requests_and_cache_lookups(shop: Shop, client: httpx.AsyncClient) -> None:
    query = {"query": "{ me { name loyaltyTier } }"}
    await client.post("/graphql", json=query)
    await client.post("/graphql", json=query)
    shop.subgraphs["legacy"].behaviour = "garbage"
    body = (await client.post("/graphql", json=query)).json()
    assert body["data"]["me"]["loyaltyTier"] is None

    found = await samples(client)
    assert value(found, "gateway_subgraph_requests_total", subgraph="accounts", outcome="ok") == 3
    assert value(found, "gateway_subgraph_requests_total", subgraph="legacy", outcome="ok") == 2
    assert value(found, "gateway_subgraph_requests_total", subgraph="legacy", outcome="bad_response") == 1
    assert value(found, "gateway_subgraph_request_duration_seconds_count", subgraph="legacy") == 3
    assert value(found, "gateway_requests_total", operation_type="query", outcome="partial") == 1
    assert value(found, "gateway_plan_cache_total", result="miss") == 1
    assert value(found, "gateway_plan_cache_total", result="hit") == 2
    assert value(found, "gateway_document_cache_total", result="hit") == 2


async def test_subgraph_graphql_errors_are_their_own_outcome(shop: Shop, client: httpx.AsyncClient) -> None:
    shop.subgraphs["legacy"].behaviour = "http500"
    await client.post("/graphql", json={"query": "{ me { name loyaltyTier } }"})
    found = await samples(client)
    outcomes = {labels for (name, labels) in found if name == "gateway_subgraph_requests_total"}
    assert (("outcome", "ok"), ("subgraph", "accounts")) in outcomes
    assert any(dict(labels)["subgraph"] == "legacy" and dict(labels)["outcome"] != "ok" for labels in outcomes)


async def test_metrics_can_be_switched_off_or_moved(shop: Shop) -> None:
    off = create_app(shop.gateway(), ServerSettings(metrics=False))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=off), base_url="http://gateway.test") as client:
        assert (await client.get("/metrics")).status_code == 404
        assert (await client.post("/graphql", json={"query": "{ me { name } }"})).status_code == 200
    moved = create_app(shop.gateway(), ServerSettings(metrics_path="/internal/metrics"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=moved), base_url="http://gateway.test") as client:
        await client.post("/graphql", json={"query": "{ me { name } }"})
        response = await client.get("/internal/metrics")
        assert response.status_code == 200 and "gateway_requests_total" in response.text


async def test_two_apps_keep_separate_figures(shop: Shop) -> None:
    apps = [create_app(shop.gateway(), ServerSettings()) for _ in range(2)]
    clients = [httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://g.test") for app in apps]
    await clients[0].post("/graphql", json={"query": "{ me { name } }"})
    first, second = await samples(clients[0]), await samples(clients[1])
    assert value(first, "gateway_requests_total", operation_type="query", outcome="ok") == 1
    assert value(second, "gateway_requests_total", operation_type="query", outcome="ok") == 0
    for client in clients:
        await client.aclose()


def test_deduplicated_subgraph_queries_are_counted() -> None:
    from prometheus_client import generate_latest

    from gateway.http.metrics import GatewayMetrics

    metrics = GatewayMetrics()
    metrics.subgraph_deduplicated("stock")
    metrics.subgraph_deduplicated("stock")
    text = generate_latest(metrics.registry).decode()
    assert 'gateway_subgraph_requests_deduplicated_total{subgraph="stock"} 2.0' in text
