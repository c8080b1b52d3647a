"""Shaping merged subgraph data into the client's response: GraphQL's null rules on lists and objects."""

from __future__ import annotations

from typing import Any

from graphql import build_schema, parse

from gateway.execution.response import ResponseShaper
from gateway.planning.operation import normalize

SCHEMA = build_schema(
    """
    type Query { items: [Item!] required: [Item!]! first: Item }
    type Item { id: ID! name: String partner: Partner! sponsor: Partner }
    type Partner { id: ID! name: String! }
    """
)
QUERY = "{ items { id name partner { name } sponsor { id name } } }"


def shape(query: str, data: dict[str, Any]) -> tuple[Any, list[dict[str, Any]]]:
    operation = normalize(parse(query), None, {})
    errors: list[dict[str, Any]] = []
    result = ResponseShaper(SCHEMA).shape(SCHEMA.query_type, operation.selections, data, errors)  # type: ignore[arg-type]
    return result, errors


def item(n: int, **overrides: Any) -> dict[str, Any]:
    return {"id": str(n), "name": f"i{n}", "partner": {"name": "p", "x": 1}, "sponsor": None, **overrides}


def test_a_list_of_objects_keeps_exactly_the_fields_asked_for() -> None:
    data, errors = shape(QUERY, {"items": [item(1), item(2, sponsor={"id": "s", "name": "S", "extra": 1})]})
    assert errors == []
    assert data == {
        "items": [
            {"id": "1", "name": "i1", "partner": {"name": "p"}, "sponsor": None},
            {"id": "2", "name": "i2", "partner": {"name": "p"}, "sponsor": {"id": "s", "name": "S"}},
        ]
    }


def test_a_null_item_in_a_list_of_non_null_items_makes_the_list_null() -> None:
    data, errors = shape(QUERY, {"items": [item(1), None]})
    assert data == {"items": None}
    assert [(e["path"], e["extensions"]["code"]) for e in errors] == [(["items", 1], "SUBGRAPH_BAD_RESPONSE")]


def test_a_missing_non_null_field_of_a_non_null_object_nulls_up_to_the_nullable_list() -> None:
    data, errors = shape(QUERY, {"items": [item(1, partner={"name": None})]})
    assert data == {"items": None}
    assert [e["path"] for e in errors] == [["items", 0, "partner", "name"]]


def test_a_nullable_object_that_breaks_its_promise_becomes_null_alone() -> None:
    data, errors = shape(QUERY, {"items": [item(1, sponsor={"id": "s", "name": None})]})
    assert data == {"items": [{"id": "1", "name": "i1", "partner": {"name": "p"}, "sponsor": None}]}
    assert [e["path"] for e in errors] == [["items", 0, "sponsor", "name"]]


def test_a_scalar_where_an_object_was_expected_is_reported_once() -> None:
    data, errors = shape(QUERY, {"items": [item(1), "oops"]})
    assert data == {"items": None}
    assert [(e["path"], e["message"]) for e in errors] == [(["items", 1], "Expected an object for field Query.items.")]
    data, errors = shape(QUERY, {"items": [item(1, partner=7)]})
    assert data == {"items": None}
    assert [(e["path"], e["message"]) for e in errors] == [
        (["items", 0, "partner"], "Expected an object for field Item.partner.")
    ]


def test_a_null_in_a_non_null_list_reaches_data() -> None:
    data, errors = shape("{ required { id } }", {"required": [{"id": None}]})
    assert data is None
    assert [e["path"] for e in errors] == [["required", 0, "id"]]
