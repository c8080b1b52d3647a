"""@context / @fromContext: plans read the context on the ancestor and pass it to the entity fetch,
and execution sends each object the value of its own nearest ancestor.

The `context` scenario (kit/context_scenario.py): `Item.price` reads `Shelf.currency`, `Lot.origin`
reads `region` of the `Place` interface (implemented by `Store` and `Warehouse`). The subgraph's
resolvers print the argument they received (`i1 in USD`), so answers show which value arrived.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from graphql import parse

from gateway.execution.pipeline import Gateway
from gateway.planning.operation import normalize
from gateway.planning.plan import Fetch, QueryPlan
from gateway.planning.planner import Planner
from tests.gateway.kit.context_scenario import Context
from tests.gateway.kit.scenarios import run

SHELF_KEY = "_ctx_shelves__shelf_0"
PLACE_KEY = "_ctx_shelves__place_0"


@pytest.fixture(scope="module")
async def context_scenario() -> AsyncIterator[tuple[Context, Gateway]]:
    scenario = Context()
    await scenario.start()
    gateway = scenario.gateway()
    yield scenario, gateway
    await gateway.aclose()
    await scenario.stop()


@pytest.fixture
def scenario(context_scenario: tuple[Context, Gateway]) -> tuple[Context, Gateway]:
    context_scenario[0].reset()
    return context_scenario


def plan(query: str) -> QueryPlan:
    return Planner(Context().supergraph).plan(normalize(parse(query), None, {}))


def fetch_at(query_plan: QueryPlan, subgraph: str, merge_path: tuple[str, ...]) -> Fetch:
    for fetch in query_plan.fetches:
        if fetch.subgraph == subgraph and fetch.parts and fetch.parts[0].merge_path == merge_path:
            return fetch
    raise AssertionError(f"no fetch to {subgraph} at {merge_path}")


def root_fetch(query_plan: QueryPlan, subgraph: str) -> Fetch:
    return next(f for f in query_plan.fetches if f.subgraph == subgraph and not f.parts)


# ---- planning ---------------------------------------------------------------------------------


def test_the_context_selection_is_fetched_on_the_ancestor_and_passed_as_a_variable() -> None:
    query_plan = plan("{ shelves { label items { name price } } }")
    ancestor = fetch_at(query_plan, "shelves", ("shelves", "@"))
    assert f"{SHELF_KEY}: currency" in ancestor.document
    contextual = fetch_at(query_plan, "shelves", ("shelves", "@", "items", "@"))
    (variable,) = contextual.parts[0].contexts
    assert variable.type == "String"
    assert f"${variable.variable}: String" in contextual.document
    assert f"price(currency: ${variable.variable})" in contextual.document
    # read on the shelf (two merge-path segments down), after the fetch that brings it
    assert [(level.prefix, level.reads) for level in variable.levels] == [(2, ((SHELF_KEY, ()),))]
    assert ancestor.id in contextual.depends_on


def test_a_context_set_by_an_interface_is_read_on_each_implementation() -> None:
    query_plan = plan("{ places { id lots { origin } } }")
    root = root_fetch(query_plan, "shelves")
    assert f"... on Store {{ {PLACE_KEY}: region }}" in root.document
    assert f"{PLACE_KEY}: region }}" in root.document.split("... on Warehouse", 1)[1]
    # the subgraph resolving `places` could resolve `origin` in the same request, but needs the
    # argument: the field goes to an entity fetch of its own
    assert "origin" not in root.document
    contextual = fetch_at(query_plan, "shelves", ("places", "@", "lots", "@"))
    (variable,) = contextual.parts[0].contexts
    assert f"origin(region: ${variable.variable})" in contextual.document
    assert contextual.depends_on == (root.id,)


def test_operations_without_contextual_fields_fetch_no_context() -> None:
    query_plan = plan("{ shelves { items { name } } places { lots { name } } }")
    assert all("_ctx_" not in fetch.document for fetch in query_plan.fetches)
    assert all(not part.contexts for fetch in query_plan.fetches for part in fetch.parts)


# ---- execution --------------------------------------------------------------------------------


def sent(scenario: Context, field: str) -> list[tuple[Any, list[str]]]:
    """(context value, entity ids) of each request asking the contextual field."""
    found = []
    for request in scenario.subgraphs["shelves"].requests:
        if field in request["query"] and "_entities" in request["query"]:
            variables = dict(request["variables"])
            representations = variables.pop("representations")
            (value,) = variables.values()
            found.append((value, [r["id"] for r in representations]))
    return sorted(found, key=lambda pair: str(pair[0]))


async def test_one_entity_under_two_ancestors_gets_each_ancestors_value(scenario: tuple[Context, Gateway]) -> None:
    subgraphs, gateway = scenario
    result = await run(gateway, "{ shelves { id items { id name price } } }")
    assert result == {
        "data": {
            "shelves": [
                {"id": "s1", "items": [{"id": "i1", "name": "Tea", "price": "i1 in USD"}, {"id": "i2", "name": "Jam", "price": "i2 in USD"}]},
                {"id": "s2", "items": [{"id": "i1", "name": "Tea", "price": "i1 in EUR"}]},
                # a null context value is passed as null
                {"id": "s3", "items": [{"id": "i2", "name": "Jam", "price": "i2 in None"}]},
            ]
        }
    }
    # one request per distinct value, each with only the entities under that value
    assert sent(subgraphs, "price") == [("EUR", ["i1"]), (None, ["i2"]), ("USD", ["i1", "i2"])]


async def test_the_nearest_ancestor_setting_the_context_wins(scenario: tuple[Context, Gateway]) -> None:
    _, gateway = scenario
    result = await run(gateway, "{ shelves { id sections { id items { id price } } } }")
    assert result == {
        "data": {
            "shelves": [
                # s3's own currency is null: null, not the USD of the shelf around it
                {"id": "s1", "sections": [{"id": "s3", "items": [{"id": "i2", "price": "i2 in None"}]}]},
                {"id": "s2", "sections": [{"id": "s1", "items": [{"id": "i1", "price": "i1 in USD"}, {"id": "i2", "price": "i2 in USD"}]}]},
                {"id": "s3", "sections": []},
            ]
        }
    }


async def test_context_on_an_interface_implemented_by_two_types(scenario: tuple[Context, Gateway]) -> None:
    subgraphs, gateway = scenario
    result = await run(gateway, "{ places { __typename lots { id origin } ... on Warehouse { dock } } }")
    assert result == {
        "data": {
            "places": [
                {"__typename": "Store", "lots": [{"id": "l1", "origin": "l1 from north"}, {"id": "l2", "origin": "l2 from north"}]},
                {"__typename": "Warehouse", "lots": [{"id": "l1", "origin": "l1 from south"}], "dock": 7},
                {"__typename": "Store", "lots": [{"id": "l2", "origin": "l2 from None"}]},
            ]
        }
    }
    assert sent(subgraphs, "origin") == [(None, ["l2"]), ("north", ["l1", "l2"]), ("south", ["l1"])]


async def test_the_context_value_stays_out_of_the_response(scenario: tuple[Context, Gateway]) -> None:
    _, gateway = scenario
    result = await run(gateway, "{ shelves { label currency: label items { price } } }")
    shelves = result["data"]["shelves"]
    assert shelves[0] == {"label": "Front", "currency": "Front", "items": [{"price": "i1 in USD"}, {"price": "i2 in USD"}]}
    assert all(set(shelf) == {"label", "currency", "items"} for shelf in shelves)
