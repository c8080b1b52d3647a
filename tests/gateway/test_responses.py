"""Responses when things go wrong: null propagation, subgraph errors, failing and slow subgraphs."""

from __future__ import annotations

import logging
import time

import pytest

from gateway.execution.pipeline import Gateway, GraphQLRequest
from tests.gateway.kit.scenarios import Shop, run


async def test_null_in_a_non_null_position_goes_to_the_nearest_nullable_parent(
    shop: Shop, shop_gateway: Gateway
) -> None:
    shop.subgraphs["products"].behaviour = "http500"
    body = await run(shop_gateway, '{ review(id: "r1") { body product { name } } }')
    # Product.name and Review.product are non-null: the review itself becomes null
    assert body["data"] == {"review": None}
    codes = {error.get("extensions", {}).get("code") for error in body["errors"]}
    assert "SUBGRAPH_BAD_RESPONSE" in codes


async def test_null_propagation_reaches_data_when_everything_above_is_non_null(shop: Shop, shop_gateway: Gateway) -> None:
    shop.subgraphs["products"].behaviour = "http500"
    body = await run(shop_gateway, "{ latestReviews { product { name } } }")
    assert body["data"] is None
    assert any("non-nullable" in e["message"] or "products" in e["message"] for e in body["errors"])


async def test_failing_subgraph_gives_partial_data_and_an_error(shop: Shop, shop_gateway: Gateway) -> None:
    shop.subgraphs["legacy"].behaviour = "garbage"
    body = await run(shop_gateway, "{ me { name loyaltyTier } }")
    assert body["data"] == {"me": {"name": "Ada Lovelace", "loyaltyTier": None}}
    (error,) = body["errors"]
    assert error["extensions"] == {"code": "SUBGRAPH_BAD_RESPONSE", "serviceName": "legacy"}


async def test_unreachable_subgraph(shop: Shop) -> None:
    gateway = shop.gateway()
    gateway.clients.urls["accounts"] = "http://127.0.0.1:9/graphql"  # nothing listens there
    try:
        body = await run(gateway, "{ me { name } products(first: 1) { name } }")
    finally:
        await gateway.aclose()
    assert body["data"] == {"me": None, "products": [{"name": "Table"}]}
    assert body["errors"][0]["extensions"]["code"] == "SUBGRAPH_UNREACHABLE"


async def test_per_subgraph_timeout(shop: Shop) -> None:
    shop.subgraphs["accounts"].delay = 2.0
    gateway = shop.gateway(timeouts={"accounts": 0.3})
    try:
        started = time.perf_counter()
        body = await run(gateway, "{ me { name } products(first: 1) { name } }")
        elapsed = time.perf_counter() - started
    finally:
        await gateway.aclose()
    assert elapsed < 1.5
    assert body["data"] == {"me": None, "products": [{"name": "Table"}]}
    assert body["errors"][0]["extensions"] == {"code": "SUBGRAPH_TIMEOUT", "serviceName": "accounts"}


async def test_entity_errors_get_paths_in_the_clients_terms(shop: Shop, shop_gateway: Gateway) -> None:
    shop.products["p2"]["weight"] = None  # inventory cannot estimate this one
    body = await run(shop_gateway, "{ items: products { name estimate: shippingEstimate } }")
    assert body["data"]["items"] == [
        {"name": "Table", "estimate": 30},
        {"name": "Couch", "estimate": None},
        {"name": "Chair", "estimate": 10},
    ]
    (error,) = body["errors"]
    assert error["path"] == ["items", 1, "estimate"]
    assert error["message"] == "shippingEstimate needs price and weight"
    assert error["extensions"] == {"code": "MISSING_INPUT", "serviceName": "inventory"}


async def test_root_field_errors_keep_their_path_and_code(shop: Shop, shop_gateway: Gateway) -> None:
    body = await run(shop_gateway, 'mutation { ok: restock(upc: "p1", quantity: 1) bad: restock(upc: "nope", quantity: 1) }')
    assert body["data"] is None  # restock is Int!: the error nulls the whole mutation result
    (error,) = body["errors"]
    assert error["path"] == ["bad"]
    assert error["extensions"]["code"] == "NOT_FOUND"


async def test_planning_failure_is_an_error_not_a_crash(shop_gateway: Gateway, monkeypatch: pytest.MonkeyPatch) -> None:
    from gateway.planning.planner import PlanningError, Planner

    def refuse(self: Planner, operation: object, labels: object = None) -> None:
        raise PlanningError("no way to resolve it")

    monkeypatch.setattr(Planner, "plan", refuse)
    body = await run(shop_gateway, "{ me { name } }")
    assert body == {
        "errors": [{"message": "no way to resolve it", "extensions": {"code": "QUERY_PLANNING_FAILED"}}],
        "data": None,
    }


async def test_internal_errors_are_masked_and_carry_the_request_id(
    shop_gateway: Gateway, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def explode(*_: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(shop_gateway.executor, "execute", explode)
    with caplog.at_level(logging.ERROR, logger="gateway"):
        response = await shop_gateway.execute(GraphQLRequest(query="{ me { name } }", request_id="req-42"))
    assert response.status == 500
    assert response.body == {
        "errors": [
            {"message": "Internal server error", "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId": "req-42"}}
        ]
    }
    assert "secret internals" not in str(response.body)
    assert "req-42" in caplog.text and "secret internals" in caplog.text


async def test_validation_and_variable_errors(shop_gateway: Gateway) -> None:
    body = await run(shop_gateway, "{ me { nope } }")
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    body = await run(shop_gateway, "query ($n: Int!) { products(first: $n) { upc } }", {"n": "three"})
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    body = await run(shop_gateway, "{ me { name }")
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
