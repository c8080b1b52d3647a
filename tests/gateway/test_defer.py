"""@defer: the initial part first, the deferred fragments after it, over multipart/mixed."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import orjson

from gateway.execution.pipeline import Gateway, GraphQLRequest
from gateway.http.app import create_app
from gateway.http.settings import ServerSettings
from tests.gateway.kit.scenarios import Shop

PRODUCT_WITH_DEFERRED_STOCK = """
query P { product(upc: "p1") { name ... @defer(label: "stock") { inStock warehouse { city } } } }
"""


async def deferred(gateway: Gateway, query: str, variables: dict[str, Any] | None = None) -> tuple[dict, dict | None]:
    response = await gateway.execute(GraphQLRequest(query=query, variables=variables, incremental=True))
    later = await response.subsequent() if response.subsequent is not None else None
    return response.body, later


async def test_the_initial_part_comes_without_the_deferred_fields_and_the_last_part_brings_them(
    shop_gateway: Gateway,
) -> None:
    initial, later = await deferred(shop_gateway, PRODUCT_WITH_DEFERRED_STOCK)
    assert initial == {"data": {"product": {"name": "Table"}}, "hasNext": True}
    assert later == {
        "hasNext": False,
        "incremental": [
            {"data": {"inStock": True, "warehouse": {"city": "Berlin"}}, "path": ["product"], "label": "stock"}
        ],
    }


async def test_the_initial_part_does_not_wait_for_a_slow_deferred_subgraph(shop: Shop, shop_gateway: Gateway) -> None:
    shop.subgraphs["inventory"].delay = 1.0
    response = await shop_gateway.execute(GraphQLRequest(query=PRODUCT_WITH_DEFERRED_STOCK, incremental=True))
    assert response.body["data"] == {"product": {"name": "Table"}}
    assert response.subsequent is not None
    last = asyncio.ensure_future(response.subsequent())
    await asyncio.sleep(0.05)
    assert not last.done()  # the inventory subgraph is still answering the deferred part
    assert (await last)["incremental"][0]["data"]["inStock"] is True


async def test_a_deferred_fragment_in_a_list_gives_one_item_per_object(shop_gateway: Gateway) -> None:
    initial, later = await deferred(
        shop_gateway, "{ products(first: 3) { upc ...Stock @defer } } fragment Stock on Product { inStock }"
    )
    assert initial["data"] == {"products": [{"upc": "p1"}, {"upc": "p2"}, {"upc": "p3"}]}
    assert later is not None
    assert later["incremental"] == [
        {"data": {"inStock": True}, "path": ["products", 0]},
        {"data": {"inStock": False}, "path": ["products", 1]},
        {"data": {"inStock": True}, "path": ["products", 2]},
    ]


async def test_defer_turned_off_or_not_accepted_gives_one_complete_answer(shop: Shop, shop_gateway: Gateway) -> None:
    query = 'query P($d: Boolean!) { product(upc: "p1") { name ... @defer(if: $d) { inStock } } }'
    response = await shop_gateway.execute(GraphQLRequest(query=query, variables={"d": False}, incremental=True))
    assert response.subsequent is None
    assert response.body == {"data": {"product": {"name": "Table", "inStock": True}}}
    # a client that cannot read parts gets everything at once
    response = await shop_gateway.execute(GraphQLRequest(query=query, variables={"d": True}))
    assert response.subsequent is None
    assert response.body == {"data": {"product": {"name": "Table", "inStock": True}}}
    # the subgraphs never see @defer
    assert all("@defer" not in r["query"] for sub in shop.subgraphs.values() for r in sub.requests)


async def test_a_mutation_with_defer_runs_once_and_answers_in_one_part(shop: Shop, shop_gateway: Gateway) -> None:
    query = 'mutation { createProduct(upc: "p9", name: "Lamp", price: 7) { name ... @defer { inStock } } }'
    response = await shop_gateway.execute(GraphQLRequest(query=query, incremental=True))
    assert response.subsequent is None
    assert response.body == {"data": {"createProduct": {"name": "Lamp", "inStock": False}}}
    assert [r for r in shop.subgraphs["products"].requests if "createProduct" in r["query"]] != []
    assert len([r for r in shop.subgraphs["products"].requests if "createProduct" in r["query"]]) == 1


async def test_a_deferred_field_that_fails_nulls_only_its_part_with_the_error(shop: Shop, shop_gateway: Gateway) -> None:
    shop.subgraphs["inventory"].behaviour = "http500"
    initial, later = await deferred(shop_gateway, PRODUCT_WITH_DEFERRED_STOCK)
    assert initial == {"data": {"product": {"name": "Table"}}, "hasNext": True}
    assert later is not None
    (item,) = later["incremental"]
    # inStock is non-null: the failure nulls the deferred object, and the item says why
    assert item["data"] is None and item["path"] == ["product"] and item["label"] == "stock"
    assert item["errors"] and all(e["extensions"]["code"] for e in item["errors"])


async def test_labels_must_be_unique_and_defer_is_not_allowed_on_mutation_root_fields(shop_gateway: Gateway) -> None:
    twice = '{ product(upc: "p1") { ... @defer(label: "a") { name } ... @defer(label: "a") { inStock } } }'
    body = (await shop_gateway.execute(GraphQLRequest(query=twice, incremental=True))).body
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    root = 'mutation { ... @defer { setPrice(upc: "p1", price: 1) { name } } }'
    body = (await shop_gateway.execute(GraphQLRequest(query=root, incremental=True))).body
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_over_http_the_parts_are_multipart_mixed(shop: Shop) -> None:
    app = create_app(shop.gateway(), ServerSettings())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway.test") as client:
        response = await client.post(
            "/graphql",
            json={"query": PRODUCT_WITH_DEFERRED_STOCK},
            headers={"accept": "multipart/mixed;deferSpec=20220824, application/json"},
        )
        plain = await client.post("/graphql", json={"query": PRODUCT_WITH_DEFERRED_STOCK})
    assert response.status_code == 200
    assert response.headers["content-type"] == 'multipart/mixed; boundary="-"; deferSpec=20220824'
    body = response.content
    assert body.endswith(b"\r\n-----\r\n")
    parts = [p for p in body[: -len(b"\r\n-----\r\n")].split(b"\r\n---\r\n") if p]
    payloads = []
    for part in parts:
        head, _, json_body = part.partition(b"\r\n\r\n")
        assert head.lower() == b"content-type: application/json; charset=utf-8"
        payloads.append(orjson.loads(json_body))
    assert payloads[0] == {"data": {"product": {"name": "Table"}}, "hasNext": True}
    assert payloads[1]["hasNext"] is False
    assert payloads[1]["incremental"][0]["data"] == {"inStock": True, "warehouse": {"city": "Berlin"}}
    # without multipart in Accept: one JSON answer with everything
    assert plain.headers["content-type"].startswith("application/json")
    assert plain.json() == {"data": {"product": {"name": "Table", "inStock": True, "warehouse": {"city": "Berlin"}}}}


async def test_a_deferred_fragment_with_a_type_condition_applies_only_to_objects_of_that_type(
    catalog_gateway: Gateway,
) -> None:
    initial, later = await deferred(catalog_gateway, '{ media { id ... on Book @defer(label: "book") { pages } } }')
    ids = [m["id"] for m in initial["data"]["media"]]
    assert later is not None
    books = [item["path"][1] for item in later["incremental"]]
    assert books and all(item["label"] == "book" and set(item["data"]) == {"pages"} for item in later["incremental"])
    # exactly the Book items got a part: ask the types in one plain query to compare
    plain = await catalog_gateway.execute(GraphQLRequest(query="{ media { id __typename } }"))
    expected = [i for i, m in enumerate(plain.body["data"]["media"]) if m["__typename"] == "Book"]
    assert books == expected and len(expected) < len(ids)
    assert all("_deferTypename" not in str(item) for item in later["incremental"])
