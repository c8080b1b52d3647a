"""Subgraphs that must not compose get an error a user can act on: rule code, subgraphs, schema coordinates."""

from __future__ import annotations

import pytest
from composition_cases import CASES, ErrorCase
from composition_support import compose_inline

from gateway.composition import CompositionError


def _matching(errors: list[CompositionError], case: ErrorCase) -> CompositionError:
    for e in errors:
        if e.code == case.code and (not case.coordinates or e.coordinates == case.coordinates):
            return e
    raise AssertionError(f"no {case.code} at {case.coordinates} among: " + "\n".join(map(str, errors)))


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_error_is_reported_with_code_subgraphs_and_coordinates(case: ErrorCase) -> None:
    result = compose_inline(case.subgraphs)
    assert not result.ok
    assert result.supergraph_sdl is None
    found = _matching(result.errors, case)
    assert sorted(found.subgraphs) == sorted(case.subgraphs_named)
    for part in case.message_parts:
        assert part in found.message


def test_errors_print_with_their_code() -> None:
    result = compose_inline({"a": "type Query { m: Int "})
    assert str(result.errors[0]).startswith("[INVALID_GRAPHQL] [a] Syntax Error")


def test_every_independent_problem_is_reported_at_once() -> None:
    """Several broken subgraphs: a user fixes them all in one pass rather than one per run."""
    result = compose_inline(
        {
            "a": 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])\n'
            'type Query { a: A }\ntype A @key(fields: "nope") { id: ID }',
            "b": 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])\n'
            'type Query { b: B }\ntype B @key(fields: "nada") { id: ID }',
        }
    )
    assert {(e.code, e.subgraphs) for e in result.errors} == {
        ("KEY_INVALID_FIELDS", ("a",)),
        ("KEY_INVALID_FIELDS", ("b",)),
    }


def test_duplicate_and_reserved_subgraph_names_are_rejected() -> None:
    from gateway.composition import SubgraphSource, compose

    sdl = "type Query { x: Int }"
    result = compose(
        [
            SubgraphSource("a", "http://a", sdl),
            SubgraphSource("a", "http://a2", sdl),
            SubgraphSource("_", "http://u", sdl),
        ]
    )
    assert [e.code for e in result.errors] == ["INVALID_SUBGRAPH_NAME", "INVALID_SUBGRAPH_NAME"]
    assert {e.subgraphs for e in result.errors} == {("a",), ("_",)}


def test_require_supergraph_raises_with_the_errors() -> None:
    from gateway.composition import CompositionFailed

    result = compose_inline({"a": "type Query { m: Nope }"})
    with pytest.raises(CompositionFailed) as info:
        result.require_supergraph()
    assert info.value.errors == result.errors
    assert "Unknown type Nope" in str(info.value)
