"""Field sets (`@key`, `@requires`, `@provides` arguments) as planner selections."""

from __future__ import annotations

from functools import cache

from graphql import OperationDefinitionNode, parse

from .operation import Selection, _Normalizer


@cache  # few distinct strings per supergraph; identity must stay stable (planner memos use id())
def parse_field_set(source: str) -> tuple[Selection, ...]:
    """`id owner { id }` -> selections. Cached: the same strings come back on every plan."""
    document = parse("{" + source + "}", no_location=True)
    definition = document.definitions[0]
    assert isinstance(definition, OperationDefinitionNode)
    return _Normalizer(document, {}).selections(definition.selection_set, frozenset())
