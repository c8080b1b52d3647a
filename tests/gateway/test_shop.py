"""Federation over real HTTP: entities, @requires, @provides, keys, mutations, client features.

The `shop` scenario (see kit/scenarios.py) is served on loopback; every test asserts on the data
and, where the feature is about how the gateway fetches, on what the subgraphs received.
"""

from __future__ import annotations

from gateway.execution.pipeline import Gateway
from tests.gateway.kit.scenarios import Shop, run


async def test_entity_join_across_subgraphs(shop: Shop, shop_gateway: Gateway) -> None:
    body = await run(shop_gateway, "{ me { id name reviews { body } } }")
    reviews = [{"body": "Sturdy"}, {"body": "Too big"}]
    assert body == {"data": {"me": {"id": "u1", "name": "Ada Lovelace", "reviews": reviews}}}
    entity_request = shop.subgraphs["reviews"].requests[0]
    assert "_entities" in entity_request["query"]
    assert entity_request["variables"]["representations"] == [{"__typename": "User", "id": "u1"}]


async def test_representations_are_deduplicated_one_request_per_subgraph(shop: Shop, shop_gateway: Gateway) -> None:
    body = await run(shop_gateway, "{ latestReviews { id author { name } } }")
    names = [review["author"]["name"] for review in body["data"]["latestReviews"]]
    assert names == ["Ada Lovelace", "Ada Lovelace", "Grace Hopper", "Linus Torvalds"]
    assert len(shop.subgraphs["accounts"].requests) == 1
    (representations,) = shop.subgraphs["accounts"].representations()
    assert sorted(r["id"] for r in representations) == ["u1", "u2", "u3"]  # u1 once, though two reviews


async def test_provides_saves_a_fetch(shop: Shop, shop_gateway: Gateway) -> None:
    body = await run(shop_gateway, "{ latestReviews { author { username } } }")
    assert [r["author"]["username"] for r in body["data"]["latestReviews"]] == ["ada", "ada", "grace", "linus"]
    assert shop.requests() == {"reviews": 1}  # username came with the review (@provides)


async def test_external_field_without_provides_is_fetched_from_its_owner(shop: Shop, shop_gateway: Gateway) -> None:
    body = await run(shop_gateway, "{ latestReviews { author { name } } }")
    assert body["data"]["latestReviews"][0]["author"] == {"name": "Ada Lovelace"}
    assert shop.requests() == {"reviews": 1, "accounts": 1}


async def test_requires_sends_required_fields_in_the_representation(shop: Shop, shop_gateway: Gateway) -> None:
    body = await run(shop_gateway, '{ product(upc: "p2") { shippingEstimate } }')
    assert body == {"data": {"product": {"shippingEstimate": 150}}}  # 1000 // 10 + 50
    (representations,) = shop.subgraphs["inventory"].representations()
    assert representations == [{"__typename": "Product", "upc": "p2", "price": 1000, "weight": 50}]


async def test_requires_with_arguments(shop: Shop, shop_gateway: Gateway) -> None:
    body = await run(shop_gateway, '{ product(upc: "p1") { price importDuty localPrice(currency: "USD") } }')
    # importDuty requires localPrice(currency: "EUR") = 200, while the client asked for USD
    assert body == {"data": {"product": {"price": 100, "importDuty": 20, "localPrice": 100}}}


async def test_requires_chain(shop: Shop, shop_gateway: Gateway) -> None:
    body = await run(shop_gateway, '{ product(upc: "p3") { deliveryNote } }')
    assert body == {"data": {"product": {"deliveryNote": "ships in 10 days"}}}
    assert shop.requests() == {"products": 1, "inventory": 1, "reviews": 1}


async def test_non_resolvable_key_is_resolved_by_the_owner(shop: Shop, shop_gateway: Gateway) -> None:
    body = await run(shop_gateway, "{ products(first: 2) { name createdBy { name } } }")
    assert body == {
        "data": {
            "products": [
                {"name": "Table", "createdBy": {"name": "Grace Hopper"}},
                {"name": "Couch", "createdBy": {"name": "Ada Lovelace"}},
            ]
        }
    }
    assert "products" not in [sub for sub, count in shop.requests().items() if count > 1]


async def test_federation_1_extend_type_subgraph(shop: Shop, shop_gateway: Gateway) -> None:
    body = await run(shop_gateway, "{ users { id loyaltyTier } }")
    assert body["data"]["users"] == [
        {"id": "u1", "loyaltyTier": "gold"},
        {"id": "u2", "loyaltyTier": "silver"},
        {"id": "u3", "loyaltyTier": "silver"},
    ]


async def test_deep_nesting_across_four_subgraphs(shop: Shop, shop_gateway: Gateway) -> None:
    query = "{ me { loyaltyTier reviews { product { name inStock reviews { author { username } } } } } }"
    body = await run(shop_gateway, query)
    assert body == {
        "data": {
            "me": {
                "loyaltyTier": "gold",
                "reviews": [
                    {
                        "product": {
                            "name": "Table",
                            "inStock": True,
                            "reviews": [{"author": {"username": "ada"}}, {"author": {"username": "grace"}}],
                        }
                    },
                    {"product": {"name": "Couch", "inStock": False, "reviews": [{"author": {"username": "ada"}}]}},
                ],
            }
        }
    }


async def test_independent_root_fields_are_fetched_in_parallel(shop: Shop) -> None:
    shop.subgraphs["accounts"].delay = 0.3
    shop.subgraphs["products"].delay = 0.3
    gateway = shop.gateway()
    try:
        import time

        started = time.perf_counter()
        body = await run(gateway, "{ me { name } products(first: 1) { name } }")
        elapsed = time.perf_counter() - started
    finally:
        await gateway.aclose()
    assert body == {"data": {"me": {"name": "Ada Lovelace"}, "products": [{"name": "Table"}]}}
    assert elapsed < 0.55, elapsed  # two 0.3 s subgraphs, side by side


async def test_mutation_root_fields_run_in_order(shop: Shop, shop_gateway: Gateway) -> None:
    query = """
    mutation {
      first: restock(upc: "p2", quantity: 1)
      created: createProduct(upc: "p9", name: "Lamp", price: 30) { upc inStock }
      second: restock(upc: "p9", quantity: 5)
      repriced: setPrice(upc: "p9", price: 70) { price shippingEstimate }
    }
    """
    body = await run(shop_gateway, query)
    assert body == {
        "data": {
            "first": 1,
            "created": {"upc": "p9", "inStock": False},  # read before the restock below
            "second": 5,
            "repriced": {"price": 70, "shippingEstimate": 8},
        }
    }
    order = sorted(
        (request["sequence"], name, request["query"])
        for name, sub in shop.subgraphs.items()
        for request in sub.requests
        if request["query"].startswith("mutation")
    )
    # each root field went alone, in the client's order (aliases are the first thing sent)
    assert [(name, query.split("{", 1)[1].split(":")[0].strip()) for _, name, query in order] == [
        ("inventory", "first"),
        ("products", "created"),
        ("inventory", "second"),
        ("products", "repriced"),
    ]


async def test_aliases_variables_defaults_and_fragments(shop: Shop, shop_gateway: Gateway) -> None:
    query = """
    query Catalogue($n: Int = 2, $currency: String!) {
      cheap: products(first: $n) { ...Names price: localPrice(currency: $currency) }
      all: products { upc }
    }
    fragment Names on Product { label: name ... on Product { upc } }
    """
    body = await run(shop_gateway, query, {"currency": "EUR"}, "Catalogue")
    assert body == {
        "data": {
            "cheap": [{"label": "Table", "upc": "p1", "price": 200}, {"label": "Couch", "upc": "p2", "price": 2000}],
            "all": [{"upc": "p1"}, {"upc": "p2"}, {"upc": "p3"}],
        }
    }
    sent = shop.subgraphs["products"].requests[0]
    assert sent["variables"] == {"currency": "EUR"}  # $n falls back to its default in the subgraph
    assert "$n: Int = 2" in sent["query"]


async def test_skip_and_include_decide_what_is_fetched(shop: Shop, shop_gateway: Gateway) -> None:
    query = """
    query ($withStock: Boolean!, $noReviews: Boolean!) {
      product(upc: "p1") { name inStock @include(if: $withStock) reviews @skip(if: $noReviews) { id } }
    }
    """
    body = await run(shop_gateway, query, {"withStock": False, "noReviews": True})
    assert body == {"data": {"product": {"name": "Table"}}}
    assert shop.requests() == {"products": 1}
    body = await run(shop_gateway, query, {"withStock": True, "noReviews": False})
    assert body == {"data": {"product": {"name": "Table", "inStock": True, "reviews": [{"id": "r1"}, {"id": "r3"}]}}}


async def test_typename_everywhere(shop_gateway: Gateway) -> None:
    body = await run(shop_gateway, "{ __typename me { __typename t: __typename reviews { __typename } } }")
    assert body == {
        "data": {
            "__typename": "Query",
            "me": {"__typename": "User", "t": "User", "reviews": [{"__typename": "Review"}, {"__typename": "Review"}]},
        }
    }


async def test_client_aliases_do_not_clash_with_fields_the_planner_adds(shop: Shop, shop_gateway: Gateway) -> None:
    # `upc` is the key the gateway needs; the client uses that response key for something else
    body = await run(shop_gateway, '{ product(upc: "p1") { upc: name inStock } }')
    assert body == {"data": {"product": {"upc": "Table", "inStock": True}}}
    (representations,) = shop.subgraphs["inventory"].representations()
    assert representations == [{"__typename": "Product", "upc": "p1"}]


async def test_plans_are_cached_per_document(shop_gateway: Gateway) -> None:
    query = "{ me { name } }"
    await run(shop_gateway, query)
    await run(shop_gateway, query)
    await run(shop_gateway, "{ me { name } }", operation_name=None)
    assert len(shop_gateway.plans) == 1
    await run(shop_gateway, "query ($x: Boolean!) { me { name @include(if: $x) } }", {"x": True})
    await run(shop_gateway, "query ($x: Boolean!) { me { name @include(if: $x) } }", {"x": False})
    assert len(shop_gateway.plans) == 3  # one plan per @include outcome


async def test_entity_fetches_ready_together_share_one_request(shop: Shop, shop_gateway: Gateway) -> None:
    shop.products["p2"]["weight"] = None  # the second part fails, the first must not
    query = '{ a: product(upc: "p1") { inStock shippingEstimate } b: product(upc: "p2") { shippingEstimate } }'
    body = await run(shop_gateway, query)
    assert body["data"] == {"a": {"inStock": True, "shippingEstimate": 30}, "b": {"shippingEstimate": None}}
    assert [error["path"] for error in body["errors"]] == [["b", "shippingEstimate"]]
    (request,) = shop.subgraphs["inventory"].requests  # both products, one request
    assert request["variables"]["representations0"][0]["upc"] == "p1"
    assert request["variables"]["representations1"][0]["upc"] == "p2"
