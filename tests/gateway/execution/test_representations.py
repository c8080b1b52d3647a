"""Finding the objects an entity fetch is for, and their deduplicated representations."""

from __future__ import annotations

from typing import Any

from gateway.execution.representations import build_representations, objects_at, path_list
from gateway.planning.plan import EntityInput, InputField, InputFragment


def found(data: Any, merge_path: tuple[str, ...]) -> list[tuple[Any, list[Any]]]:
    return [(obj, path_list(path)) for obj, path in objects_at(data, merge_path)]


def exact(typename: str | None, condition: str) -> bool:
    return typename == condition


def test_objects_at_walks_marked_and_unmarked_lists_and_skips_nulls() -> None:
    data = {"a": [[{"id": 1}], None, [{"id": 2}, None]], "b": {"c": [{"id": 3}]}}
    # one `@` over a list of lists: the inner lists are walked into as well
    assert found(data, ("a", "@")) == [({"id": 1}, ["a", 0, 0]), ({"id": 2}, ["a", 2, 0])]
    # an unmarked list on the way to a named segment is walked into
    assert found({"x": [{"y": {"id": 5}}, {"y": None}]}, ("x", "y")) == [({"id": 5}, ["x", 0, "y"])]
    assert found(data, ("b", "c", "@")) == [({"id": 3}, ["b", "c", 0])]


def test_objects_at_finds_nothing_where_the_data_has_another_shape() -> None:
    assert found({"a": {"id": 1}}, ("a", "@")) == []  # an object where a list was expected
    assert found({"a": None}, ("a", "@", "b")) == []
    assert found({"a": ["text", 3]}, ("a", "@")) == []  # scalars are not objects
    assert found({"a": {"id": 1}}, ()) == [({"a": {"id": 1}}, [])]


def test_one_field_key_dedupes_by_value_and_skips_objects_without_a_key() -> None:
    one = EntityInput("Partner", "Partner", (InputField("id", "id"),), ("id",))
    data = {
        "list": [
            {"__typename": "Benefit", "p": {"__typename": "Partner", "id": "p1"}},
            {"__typename": "Benefit", "p": {"__typename": "Partner", "id": "p2"}},
            {"__typename": "Benefit", "p": {"__typename": "Partner", "id": "p1"}},
            {"__typename": "Benefit", "p": {"__typename": "Partner", "id": None}},
            {"__typename": "Benefit", "p": {"__typename": "Other", "id": "p3"}},
            {"__typename": "Benefit", "p": {"id": "p4"}},  # no __typename: a non-abstract position
        ]
    }
    reps = build_representations(data, ("list", "@", "p"), (one,), exact)
    assert reps.values == [
        {"__typename": "Partner", "id": "p1"},
        {"__typename": "Partner", "id": "p2"},
        {"__typename": "Partner", "id": "p4"},
    ]
    assert [[path_list(path) for _, path in targets] for targets in reps.targets] == [
        [["list", 0, "p"], ["list", 2, "p"]],
        [["list", 1, "p"]],
        [["list", 5, "p"]],
    ]
    # the targets are the objects themselves, so answers merge into the response tree
    assert reps.targets[0][0][0] is data["list"][0]["p"]


def test_a_key_value_that_is_a_list_or_object_is_deduplicated_by_its_content() -> None:
    one = EntityInput("T", "T", (InputField("k", "k"),), ("k",))
    data = {"l": [{"k": [1, 2]}, {"k": [1, 2]}, {"k": {"b": 1, "a": 2}}, {"k": {"a": 2, "b": 1}}]}
    reps = build_representations(data, ("l", "@"), (one,), exact)
    assert reps.values == [{"__typename": "T", "k": [1, 2]}, {"__typename": "T", "k": {"b": 1, "a": 2}}]
    assert [len(t) for t in reps.targets] == [2, 2]


def test_compound_keys_read_aliased_fields_and_keep_inputs_apart() -> None:
    by_upc = EntityInput("Book", "Product", (InputField("upc", "u"), InputField("sku", "s")), ("upc",))
    by_code = EntityInput("Movie", "Product", (InputField("code", "u"), InputField("sku", "s")), ("code",))
    data = {
        "l": [
            {"__typename": "Book", "u": "1", "s": "x"},
            {"__typename": "Movie", "u": "1", "s": "x"},  # same values, another input: not the same entity
            {"__typename": "Book", "u": "1", "s": "x"},
            {"__typename": "Book", "u": None, "s": "y"},  # its key is null
        ]
    }
    reps = build_representations(data, ("l", "@"), (by_upc, by_code), exact)
    assert reps.values == [
        {"__typename": "Product", "upc": "1", "sku": "x"},
        {"__typename": "Product", "code": "1", "sku": "x"},
    ]
    assert [len(t) for t in reps.targets] == [2, 1]


def test_nested_key_selections_and_fragments_still_apply() -> None:
    nested = EntityInput(
        "User",
        "User",
        (
            InputField("id", "id"),
            InputField("org", "org", (InputField("id", "id"),)),
            InputFragment("Admin", (InputField("level", "level"),)),
        ),
        ("id",),
    )
    data = {"u": [{"__typename": "User", "id": "1", "org": {"id": "o", "name": "n"}, "level": 3}]}
    reps = build_representations(data, ("u", "@"), (nested,), exact)
    # the fragment is for Admin only, and the nested object keeps only what the key selects
    assert reps.values == [{"__typename": "User", "id": "1", "org": {"id": "o"}}]
