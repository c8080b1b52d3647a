"""Reading supergraph SDL: the join metadata model and the API schema clients see."""

from __future__ import annotations

import pytest
from graphql import GraphQLEnumType, GraphQLObjectType, print_schema

from gateway.supergraph import Key, SupergraphError, load_supergraph, load_supergraph_file
from tests.gateway.kit.scenarios import FIXTURES

SHOP = FIXTURES / "shop" / "supergraph.graphql"
CATALOG = FIXTURES / "catalog" / "supergraph.graphql"


def test_subgraphs_types_and_keys() -> None:
    shop = load_supergraph_file(SHOP)
    assert sorted(shop.subgraphs) == ["accounts", "inventory", "legacy", "products", "reviews"]
    assert shop.subgraphs["accounts"].url == "http://accounts.subgraph.test/graphql"
    assert shop.type_in("User", "accounts").keys == [Key("id", True)]
    assert shop.type_in("User", "products").keys == [Key("id", False)]  # resolvable: false
    assert shop.keys_in("User", "products") == []
    assert shop.type_in("User", "legacy") is not None  # the federation-1 subgraph's `extend type`
    assert shop.type_in("Warehouse", "reviews") is None


def test_field_joins() -> None:
    shop = load_supergraph_file(SHOP)
    estimate = shop.field_join("Product", "shippingEstimate", "inventory")
    assert estimate is not None and estimate.requires == "price weight"
    price = shop.field_join("Product", "price", "inventory")
    assert price is not None and price.external
    author = shop.field_join("Review", "author", "reviews")
    assert author is not None and author.provides == "username"
    assert shop.field_join("Product", "name", "inventory") is None
    assert shop.field_type_in("Product", "reviews", "reviews") == "[Review!]!"


def test_abstract_types_per_subgraph() -> None:
    catalog = load_supergraph_file(CATALOG)
    assert catalog.possible_types_in("Media", "catalog") == ["Book", "Movie"]
    assert catalog.possible_types_in("SearchResult", "catalog") == ["Book", "Movie", "Person"]
    assert catalog.is_interface_object_in("Media", "ratings")
    assert not catalog.is_interface_object_in("Media", "catalog")
    assert catalog.field_graphs("Book", "rating") == {}  # comes from the @interfaceObject only


def test_overrides_and_labels() -> None:
    catalog = load_supergraph_file(CATALOG)
    assert catalog.override_labels == frozenset({"studio-years"})
    studio = catalog.field_join("Movie", "year", "studio")
    assert studio is not None and (studio.override, studio.override_label) == ("catalog", "studio-years")
    assert set(catalog.field_graphs("Movie", "budget")) == {"studio"}  # the plain override moved it


def test_api_schema_drops_the_machinery_and_inaccessible_parts() -> None:
    catalog = load_supergraph_file(CATALOG)
    api = catalog.api_schema
    printed = print_schema(api)
    assert "join__" not in printed and "link__" not in printed and "@link" not in printed
    book = api.type_map["Book"]
    assert isinstance(book, GraphQLObjectType) and "isbn" not in book.fields and "pages" in book.fields
    format_enum = api.type_map["Format"]
    assert isinstance(format_enum, GraphQLEnumType) and set(format_enum.values) == {"HARDCOVER", "PAPERBACK"}
    assert {t.name for t in api.get_possible_types(api.type_map["Media"])} == {"Book", "Movie"}  # type: ignore[arg-type]
    # the full supergraph schema keeps them: the planner needs them
    assert "isbn" in catalog.schema.type_map["Book"].fields  # type: ignore[union-attr]


def test_inaccessible_arguments_input_fields_and_types() -> None:
    sdl = SHOP.read_text().replace(
        "products(first: Int = 5): [Product!]!",
        "products(first: Int = 5, hidden: Int @inaccessible): [Product!]!",
    )
    sdl = sdl.replace(
        '@link(url: "https://specs.apollo.dev/join/v0.5", for: EXECUTION)',
        '@link(url: "https://specs.apollo.dev/join/v0.5", for: EXECUTION)\n'
        '  @link(url: "https://specs.apollo.dev/inaccessible/v0.2", for: SECURITY)',
    )
    sdl += "\ndirective @inaccessible on FIELD_DEFINITION | OBJECT | ARGUMENT_DEFINITION\n"
    sdl += 'type Secret @inaccessible @join__type(graph: ACCOUNTS) { code: String }\n'
    api = load_supergraph(sdl).api_schema
    products = api.query_type.fields["products"]  # type: ignore[union-attr]
    assert set(products.args) == {"first"}
    assert "Secret" not in api.type_map


def test_renamed_join_spec_and_inaccessible() -> None:
    sdl = CATALOG.read_text()
    sdl = sdl.replace('@link(url: "https://specs.apollo.dev/join/v0.5", for: EXECUTION)',
                      '@link(url: "https://specs.apollo.dev/join/v0.5", as: "j", for: EXECUTION)')
    sdl = sdl.replace("join__", "j__")
    sdl = sdl.replace('@link(url: "https://specs.apollo.dev/inaccessible/v0.2", for: SECURITY)',
                      '@link(url: "https://specs.apollo.dev/inaccessible/v0.2", as: "hidden", for: SECURITY)')
    sdl = sdl.replace("@inaccessible", "@hidden")
    catalog = load_supergraph(sdl)
    assert sorted(catalog.subgraphs) == ["catalog", "ratings", "stock", "studio"]
    assert catalog.is_interface_object_in("Media", "ratings")
    book = catalog.api_schema.type_map["Book"]
    assert isinstance(book, GraphQLObjectType) and "isbn" not in book.fields
    assert "j__Graph" not in catalog.api_schema.type_map


def test_not_a_supergraph() -> None:
    with pytest.raises(SupergraphError, match="join spec"):
        load_supergraph("type Query { hello: String }")
    with pytest.raises(SupergraphError, match="does not parse"):
        load_supergraph("type Query {")


def test_federation_1_supergraphs_are_refused_clearly() -> None:
    sdl = SHOP.read_text().replace("join/v0.5", "join/v0.1")
    with pytest.raises(SupergraphError, match="join v0.1"):
        load_supergraph(sdl)
