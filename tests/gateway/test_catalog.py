"""Abstract types, @interfaceObject, @inaccessible, @override, @shareable and keys, over real HTTP.

The `catalog` scenario (see kit/scenarios.py): `Media` is an entity interface in `catalog` and an
@interfaceObject in `ratings`; `studio` overrides `Movie.budget` (always) and `Movie.year`
(under the progressive label `studio-years`); `Edition` has a nested composite key known to
`stock` and a `sku` key known to `studio`.
"""

from __future__ import annotations

from gateway.execution.pipeline import Gateway
from tests.gateway.kit.scenarios import Catalog, run


async def test_interface_with_fields_from_an_interface_object(catalog: Catalog, catalog_gateway: Gateway) -> None:
    body = await run(catalog_gateway, "{ media { __typename title rating ... on Book { pages } } }")
    assert body["data"] == {
        "media": [
            {"__typename": "Book", "title": "Dune", "rating": 4.5, "pages": 412},
            {"__typename": "Movie", "title": "Alien", "rating": 4.8},
            {"__typename": "Book", "title": "Neuromancer", "rating": 3.9, "pages": 271},
        ]
    }
    (representations,) = catalog.subgraphs["ratings"].representations()
    # ratings only knows the interface: representations name it, not Book or Movie
    assert {r["__typename"] for r in representations} == {"Media"}


async def test_interface_object_results_get_their_real_type(catalog: Catalog, catalog_gateway: Gateway) -> None:
    body = await run(catalog_gateway, "{ topRated { __typename id rating ... on Movie { minutes } } }")
    assert body == {
        "data": {
            "topRated": [
                {"__typename": "Movie", "id": "m1", "rating": 4.8, "minutes": 117},
                {"__typename": "Book", "id": "b1", "rating": 4.5},
            ]
        }
    }


async def test_interface_object_fields_alone_need_no_other_subgraph(catalog: Catalog, catalog_gateway: Gateway) -> None:
    body = await run(catalog_gateway, "{ topRated { id reviewCount } }")
    assert body == {"data": {"topRated": [{"id": "m1", "reviewCount": 20}, {"id": "b1", "reviewCount": 10}]}}
    assert catalog.requests() == {"ratings": 1}


async def test_union_with_fragments_on_members_and_interfaces(catalog_gateway: Gateway) -> None:
    query = '{ search(term: "e") { __typename ... on Media { title } ... on Person { name } ... on Movie { minutes } } }'
    body = await run(catalog_gateway, query)
    assert body == {
        "data": {
            "search": [
                {"__typename": "Book", "title": "Dune"},
                {"__typename": "Book", "title": "Neuromancer"},
                {"__typename": "Movie", "title": "Alien", "minutes": 117},
                {"__typename": "Person", "name": "Ridley Scott"},
            ]
        }
    }


async def test_fragment_on_a_type_the_result_is_not(catalog_gateway: Gateway) -> None:
    body = await run(catalog_gateway, '{ node(id: "pe1") { id ... on Movie { minutes } } }')
    assert body == {"data": {"node": {"id": "pe1"}}}


async def test_plain_override_takes_the_field_from_the_new_owner(catalog: Catalog, catalog_gateway: Gateway) -> None:
    body = await run(catalog_gateway, '{ node(id: "m1") { ... on Movie { budget } } }')
    assert body == {"data": {"node": {"budget": 11000000}}}  # studio's, not the catalog's stale 1
    assert "studio" in catalog.requests()


async def test_progressive_override_follows_the_label(catalog: Catalog) -> None:
    query = "{ media { ... on Movie { year } } }"
    off = catalog.gateway()
    on = catalog.gateway(override_labels=frozenset({"studio-years"}))
    try:
        assert (await run(off, query))["data"]["media"][1] == {"year": 1900}  # the catalog still answers
        assert (await run(on, query))["data"]["media"][1] == {"year": 1979}  # the studio took over
    finally:
        await off.aclose()
        await on.aclose()


async def test_shareable_root_field_picks_the_subgraph_needing_fewest_fetches(
    catalog: Catalog, catalog_gateway: Gateway
) -> None:
    body = await run(catalog_gateway, "{ featured { title studio } }")
    assert body == {"data": {"featured": {"title": "Alien", "studio": "20th Century"}}}
    assert catalog.requests() == {"studio": 1}  # studio answers both; the catalog would need a second fetch
    catalog.reset()
    body = await run(catalog_gateway, "{ featured { title minutes } }")
    assert body == {"data": {"featured": {"title": "Alien", "minutes": 117}}}
    assert catalog.requests() == {"catalog": 1}


async def test_multiple_and_nested_composite_keys(catalog: Catalog, catalog_gateway: Gateway) -> None:
    body = await run(catalog_gateway, '{ edition(sku: "s2") { number price copies book { title } } }')
    assert body == {"data": {"edition": {"number": 2, "price": 15, "copies": 250, "book": {"title": "Dune"}}}}
    (stock_representations,) = catalog.subgraphs["stock"].representations()
    assert stock_representations == [{"__typename": "Edition", "book": {"id": "b1"}, "number": 2}]
    (studio_representations,) = catalog.subgraphs["studio"].representations()
    assert studio_representations == [{"__typename": "Edition", "sku": "s2"}]


async def test_inaccessible_field_is_rejected_and_hidden(catalog_gateway: Gateway) -> None:
    body = await run(catalog_gateway, '{ node(id: "b1") { ... on Book { isbn } } }')
    assert "data" not in body  # a validation error: nothing was executed
    assert "isbn" in body["errors"][0]["message"]
    introspection = await run(catalog_gateway, '{ __type(name: "Book") { fields { name } } }')
    names = {field["name"] for field in introspection["data"]["__type"]["fields"]}
    assert "pages" in names and "isbn" not in names


async def test_inaccessible_enum_value_from_a_subgraph_becomes_null(catalog_gateway: Gateway) -> None:
    body = await run(catalog_gateway, "{ media { ... on Book { format } } }")
    assert body["data"]["media"] == [{"format": "HARDCOVER"}, {}, {"format": None}]
    assert body["errors"][0]["path"] == ["media", 2, "format"]


async def test_introspection_shows_the_api_schema_only(catalog_gateway: Gateway) -> None:
    body = await run(catalog_gateway, "{ __schema { types { name } directives { name } } }")
    names = {t["name"] for t in body["data"]["__schema"]["types"]}
    assert {"Media", "Book", "SearchResult", "Edition"} <= names
    assert not any(name.startswith(("join__", "link__")) for name in names)
    assert {d["name"] for d in body["data"]["__schema"]["directives"]} >= {"skip", "include"}
    assert not {d["name"] for d in body["data"]["__schema"]["directives"]} & {"join__type", "link", "inaccessible"}


async def test_introspection_mixed_with_data(catalog_gateway: Gateway) -> None:
    body = await run(catalog_gateway, '{ featured { title } __type(name: "Movie") { name kind } }')
    assert body == {"data": {"featured": {"title": "Alien"}, "__type": {"name": "Movie", "kind": "OBJECT"}}}
