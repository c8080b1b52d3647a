"""Limits on what one operation may ask: depth, aliases and an estimated cost.

They run on the parsed document before validation and planning, so an abusive query is turned
away cheaply, with an error that says which limit it broke and by how much. When the supergraph
carries `@cost` / `@listSize` (demand control), the cost is instead Apollo's static estimate
(`planning/cost.py`), which needs the schema and the variables' values: it runs once the
operation is planned, still before any subgraph is called.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
)

from ..execution.pipeline import Gateway
from ..planning.cost import SlicingError, estimate_cost
from ..planning.operation import Operation
from ..supergraph.model import Supergraph

# Arguments that usually size a list; their literal value multiplies the cost below them.
_SIZE_ARGUMENTS = ("first", "last", "limit", "pageSize", "size", "take", "count")


@dataclass(slots=True)
class OperationLimits:
    max_depth: int | None = 15
    max_aliases: int | None = 30
    # fields, weighted by list sizes given as literal arguments; with @cost/@listSize in the
    # supergraph, Apollo's static cost estimate
    max_cost: int | None = 5000
    default_list_size: int = 1  # assumed size of lists whose size is not given
    max_tokens: int | None = 15000  # enforced while parsing, before anything else


@dataclass(slots=True)
class _Measure:
    depth: int = 0
    aliases: int = 0
    cost: int = 0


def _measure(
    selection_set: SelectionSetNode | None,
    fragments: dict[str, FragmentDefinitionNode],
    depth: int,
    multiplier: int,
    measure: _Measure,
    limits: OperationLimits,
    visiting: frozenset[str],
) -> None:
    if selection_set is None:
        return
    for node in selection_set.selections:
        if isinstance(node, FieldNode):
            if node.name.value.startswith("__"):
                continue  # introspection has its own, fixed shape
            if node.alias is not None:
                measure.aliases += 1
            measure.depth = max(measure.depth, depth + 1)
            measure.cost += multiplier
            size = limits.default_list_size
            for argument in node.arguments or ():
                if argument.name.value in _SIZE_ARGUMENTS and isinstance(argument.value, IntValueNode):
                    size = max(1, int(argument.value.value))
            _measure(node.selection_set, fragments, depth + 1, multiplier * size, measure, limits, visiting)
        elif isinstance(node, InlineFragmentNode):
            _measure(node.selection_set, fragments, depth, multiplier, measure, limits, visiting)
        elif isinstance(node, FragmentSpreadNode):
            name = node.name.value
            fragment = fragments.get(name)
            if fragment is not None and name not in visiting:
                _measure(fragment.selection_set, fragments, depth, multiplier, measure, limits, visiting | {name})


def check_limits(
    document: DocumentNode, operation: OperationDefinitionNode, limits: OperationLimits, count_cost: bool = True
) -> list[GraphQLError]:
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    measure = _Measure()
    _measure(operation.selection_set, fragments, 0, 1, measure, limits, frozenset())
    errors = []
    if limits.max_depth is not None and measure.depth > limits.max_depth:
        errors.append(_limit_error("depth", measure.depth, limits.max_depth, "MAX_DEPTH_EXCEEDED"))
    if limits.max_aliases is not None and measure.aliases > limits.max_aliases:
        errors.append(_limit_error("aliases", measure.aliases, limits.max_aliases, "MAX_ALIASES_EXCEEDED"))
    if count_cost and limits.max_cost is not None and measure.cost > limits.max_cost:
        errors.append(_limit_error("cost", measure.cost, limits.max_cost, "MAX_COST_EXCEEDED"))
    return errors


def static_cost_errors(
    supergraph: Supergraph, operation: Operation, variables: Mapping[str, Any], limits: OperationLimits
) -> list[GraphQLError]:
    """The demand-control cost limit: nothing to say when the supergraph has no @cost/@listSize
    (the document check's field count applies then)."""
    max_cost = limits.max_cost
    if not supergraph.cost or max_cost is None:
        return []
    try:
        cost = estimate_cost(supergraph, operation, variables, limits.default_list_size)
    except SlicingError as error:
        return [GraphQLError(str(error), extensions={"code": "BAD_USER_INPUT"})]
    if cost > max_cost:
        return [_limit_error("cost", cost, max_cost, "MAX_COST_EXCEEDED")]
    return []


def install_limits(gateway: Gateway, limits: OperationLimits) -> None:
    """The document limits, and the cost limit where it fits the supergraph. Both look at the
    supergraph when they run, so a reloaded supergraph brings its own cost rules."""

    def document_check(document: DocumentNode, operation: OperationDefinitionNode) -> list[GraphQLError]:
        count_cost = not gateway.supergraph.cost or limits.max_cost is None
        return check_limits(document, operation, limits, count_cost)

    gateway.options.checks.append(document_check)
    gateway.options.operation_checks.append(
        lambda supergraph, operation, variables: static_cost_errors(supergraph, operation, variables, limits)
    )


def _limit_error(what: str, found: int, limit: int, code: str) -> GraphQLError:
    return GraphQLError(
        f"Operation {what} {found} exceeds the limit of {limit}.",
        extensions={"code": code, "limit": limit, "found": found},
    )
