"""Plan snapshots: representative operations and the plans the planner makes for them.

Each case's printed plan is compared with `snapshots/<case>.plan`. After an intended change to
the planner, review the differences and rewrite the files with
`ABG_UPDATE_SNAPSHOTS=1 .venv/bin/pytest tests/gateway/test_plans.py`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from graphql import parse
from graphql.execution.values import get_variable_values

from gateway.planning.operation import find_operation, normalize
from gateway.planning.plan import QueryPlan, print_plan
from gateway.planning.planner import Planner, PlanningError
from gateway.supergraph import Supergraph, load_supergraph_file

FIXTURES = Path(__file__).parent / "fixtures"
SNAPSHOTS = Path(__file__).parent / "snapshots"

SUPERGRAPHS: dict[str, Supergraph] = {}


def supergraph(name: str) -> Supergraph:
    if name not in SUPERGRAPHS:
        SUPERGRAPHS[name] = load_supergraph_file(FIXTURES / name / "supergraph.graphql")
    return SUPERGRAPHS[name]


def plan(
    scenario: str, query: str, variables: dict[str, Any] | None = None, labels: frozenset[str] = frozenset()
) -> QueryPlan:
    graph = supergraph(scenario)
    document = parse(query)
    operation = find_operation(document, None)
    coerced = get_variable_values(graph.api_schema, operation.variable_definitions or (), variables or {})
    assert not isinstance(coerced, list), coerced
    return Planner(graph).plan(normalize(document, None, coerced.coerced), labels)


CASES: dict[str, tuple[str, str, dict[str, Any] | None, frozenset[str]]] = {
    "shop_entity_join": ("shop", "{ me { name reviews { body } } }", None, frozenset()),
    "context_from_ancestor": (
        "context",
        "{ shelves { label items { name price } } places { lots { origin } } }",
        None,
        frozenset(),
    ),
    "shop_parallel_roots": ("shop", "{ me { name } products { name inStock } }", None, frozenset()),
    "shop_provides": ("shop", "{ latestReviews { author { username name } } }", None, frozenset()),
    "shop_requires_chain": ("shop", '{ product(upc: "p3") { deliveryNote } }', None, frozenset()),
    "shop_requires_arguments": (
        "shop",
        '{ product(upc: "p1") { importDuty localPrice(currency: "USD") } }',
        None,
        frozenset(),
    ),
    "shop_nested_four_subgraphs": (
        "shop",
        "{ me { loyaltyTier reviews { product { name shippingEstimate } } } }",
        None,
        frozenset(),
    ),
    "shop_batched_entity_fetches": (
        "shop",
        '{ a: product(upc: "p1") { inStock } b: product(upc: "p2") { shippingEstimate } }',
        None,
        frozenset(),
    ),
    "shop_alias_clash": ("shop", '{ product(upc: "p1") { upc: name inStock } }', None, frozenset()),
    "shop_skip_include": (
        "shop",
        "query ($a: Boolean!) { product(upc: \"p1\") { name inStock @include(if: $a) reviews @skip(if: $a) { id } } }",
        {"a": True},
        frozenset(),
    ),
    "shop_mutations": (
        "shop",
        'mutation { a: restock(upc: "p1", quantity: 1) b: setPrice(upc: "p1", price: 5) { price inStock } '
        'c: createProduct(upc: "p9", name: "x", price: 1) { upc } }',
        None,
        frozenset(),
    ),
    "shop_variables": (
        "shop",
        "query Page($n: Int = 2, $c: String!) { products(first: $n) { localPrice(currency: $c) importDuty } }",
        {"c": "EUR"},
        frozenset(),
    ),
    "catalog_interface_object_fields": ("catalog", "{ media { title rating } }", None, frozenset()),
    "catalog_interface_object_root": (
        "catalog",
        "{ topRated { __typename rating ... on Book { pages } } }",
        None,
        frozenset(),
    ),
    "catalog_union": (
        "catalog",
        '{ search(term: "a") { __typename ... on Media { title } ... on Person { name } } }',
        None,
        frozenset(),
    ),
    "catalog_keys": ("catalog", '{ edition(sku: "s1") { price copies book { title } } }', None, frozenset()),
    "catalog_shareable_root": ("catalog", "{ featured { title studio } }", None, frozenset()),
    "catalog_override_label_off": ("catalog", "{ featured { minutes year } }", None, frozenset()),
    "catalog_override_label_on": ("catalog", "{ featured { minutes year } }", None, frozenset({"studio-years"})),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_plan_snapshot(case: str) -> None:
    scenario, query, variables, labels = CASES[case]
    printed = print_plan(plan(scenario, query, variables, labels)) + "\n"
    snapshot = SNAPSHOTS / f"{case}.plan"
    if os.environ.get("ABG_UPDATE_SNAPSHOTS") == "1":
        SNAPSHOTS.mkdir(exist_ok=True)
        snapshot.write_text(printed)
    assert snapshot.exists(), f"no snapshot {snapshot.name}: run with ABG_UPDATE_SNAPSHOTS=1 and review it"
    assert printed == snapshot.read_text()


def test_plans_are_plain_data_that_compare_equal() -> None:
    first = plan("shop", "{ me { name reviews { body } } }")
    second = plan("shop", "{ me { name reviews { body } } }")
    assert first == second
    (root, entity) = first.fetches
    assert (root.subgraph, root.parts, root.depends_on) == ("accounts", (), ())
    (part,) = entity.parts
    assert (entity.subgraph, part.merge_path, entity.depends_on) == ("reviews", ("me",), (0,))
    assert part.inputs[0].key_fields == ("id",)


def test_independent_fetches_do_not_wait_for_each_other() -> None:
    result = plan("shop", "{ me { name } products { name } latestReviews { body } }")
    assert {f.subgraph for f in result.fetches} == {"accounts", "products", "reviews"}
    assert all(not f.depends_on for f in result.fetches)


def test_progressive_override_changes_the_plan() -> None:
    off = plan("catalog", "{ featured { minutes year } }")
    on = plan("catalog", "{ featured { minutes year } }", labels=frozenset({"studio-years"}))
    assert [f.subgraph for f in off.fetches] == ["catalog"]
    assert [f.subgraph for f in on.fetches] == ["catalog", "studio"]


def test_unresolvable_fields_fail_planning_with_a_clear_message() -> None:
    broken = load_supergraph_file(FIXTURES / "shop" / "supergraph.graphql")
    broken.fields[("User", "name")] = {}  # no subgraph resolves User.name any more
    with pytest.raises(PlanningError, match='Cannot resolve "name" on type "User"'):
        Planner(broken).plan(normalize(parse("{ me { name } }"), None, {}))
