"""@context / @fromContext plans against Apollo's query planner, on the `context` scenario.

Apollo Gateway cannot be the reference here: @apollo/gateway 2.14 refuses supergraphs that link
the context spec (its executor has no context rewrites), and Hive Gateway's runtime does not know
@fromContext. Apollo's query planner (the one Apollo Router's plans are checked against) does plan
them, so the plans are compared: the same fetches (subgraph, merge path), the contextual fields
asked with a variable in the same fetches, and the context read on the same types and fields.
The answers themselves are checked in test_context.py.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from graphql import FieldNode, InlineFragmentNode, OperationDefinitionNode, SelectionSetNode, VariableNode, parse

from gateway.planning.plan import QueryPlan
from tests.gateway.test_context import plan
from tests.gateway.test_differential import NODE, TOOLS

FIXTURE = Path(__file__).parent / "fixtures" / "context" / "supergraph.graphql"
HELPER = Path(__file__).parent / "kit" / "apollo_plans.cjs"

QUERIES = [
    "{ shelves { id label items { id name price } } }",
    "{ shelves { items { price } } }",
    "{ shelves { items { price } sections { id items { price } } } }",
    "{ places { id region lots { id name origin } ... on Warehouse { dock } } }",
    "{ places { ... on Store { lots { origin } } ... on Warehouse { id lots { name origin } } } }",
]

pytestmark = [pytest.mark.node, pytest.mark.timeout(120)]


@pytest.fixture(scope="module")
def apollo_plans() -> dict[str, list[dict[str, Any]]]:
    if not NODE.exists() or not (TOOLS / "node_modules" / "@apollo" / "query-planner").exists():
        pytest.skip("Apollo's query planner is not installed (scripts/npm-tools installs it)")
    done = subprocess.run(
        [str(NODE), str(HELPER), str(TOOLS / "node_modules"), str(FIXTURE)],
        input=json.dumps(QUERIES), capture_output=True, text=True, timeout=100, check=True,
    )
    return json.loads(done.stdout)


def _walk(selection_set: SelectionSetNode | None, condition: str | None, visit: Any) -> None:
    for sel in selection_set.selections if selection_set else ():
        if isinstance(sel, InlineFragmentNode):
            _walk(sel.selection_set, sel.type_condition.name.value if sel.type_condition else condition, visit)
        elif isinstance(sel, FieldNode):
            visit(sel, condition)
            _walk(sel.selection_set, condition, visit)


def contextual_calls(document: str) -> set[tuple[str | None, str, str]]:
    """(type condition, field, argument) of every field argument given a contextual variable."""
    found: set[tuple[str | None, str, str]] = set()

    def visit(field: FieldNode, condition: str | None) -> None:
        for argument in field.arguments or ():
            if isinstance(argument.value, VariableNode) and argument.value.name.value.startswith("contextualArgument"):
                found.add((condition, field.name.value, argument.name.value))

    definition = parse(document).definitions[0]
    assert isinstance(definition, OperationDefinitionNode)
    _walk(definition.selection_set, None, visit)
    return found


def our_context_reads(query_plan: QueryPlan) -> set[tuple[str | None, str]]:
    """(type condition, field) of the context values our plan fetches (under reserved keys)."""
    found: set[tuple[str | None, str]] = set()

    def visit(field: FieldNode, condition: str | None) -> None:
        if field.alias is not None and field.alias.value.startswith("_ctx_"):
            found.add((condition, field.name.value))

    for fetch in query_plan.fetches:
        definition = parse(fetch.document).definitions[0]
        assert isinstance(definition, OperationDefinitionNode)
        _walk(definition.selection_set, None, visit)
    return found


@pytest.mark.parametrize("query", QUERIES)
def test_context_plans_agree_with_apollos_planner(apollo_plans: dict[str, list[dict[str, Any]]], query: str) -> None:
    theirs = apollo_plans[query]
    ours = plan(query)

    our_fetches = sorted(
        (fetch.subgraph, part.merge_path) for fetch in ours.fetches for part in fetch.parts
    ) + sorted((fetch.subgraph, ()) for fetch in ours.fetches if not fetch.parts)
    their_fetches = sorted(
        (f["service"], tuple(f["path"])) for f in theirs if f["path"]
    ) + sorted((f["service"], ()) for f in theirs if not f["path"])
    assert our_fetches == their_fetches

    our_contextual = {
        (fetch.subgraph, fetch.parts[0].merge_path, frozenset(contextual_calls(fetch.document)))
        for fetch in ours.fetches
        if fetch.parts and fetch.parts[0].contexts
    }
    their_contextual = {
        (f["service"], tuple(f["path"]), frozenset(contextual_calls(f["operation"])))
        for f in theirs
        if f["contextRewrites"]
    }
    assert our_contextual == their_contextual and our_contextual

    # Apollo's rewrite paths end in `... on <type>`, `<field>`: where the value is read
    their_reads = {
        (rewrite["path"][-2].removeprefix("... on "), rewrite["path"][-1])
        for f in theirs
        for rewrite in f["contextRewrites"]
    }
    assert our_context_reads(ours) == their_reads
