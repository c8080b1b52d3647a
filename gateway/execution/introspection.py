"""Introspection answered by the gateway itself, from the API schema."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)
from graphql.execution import ExecutionResult, experimental_execute_incrementally

INTROSPECTION_FIELDS = ("__schema", "__type")


def _keep_introspection(selection_set: SelectionSetNode, fragments: dict[str, FragmentDefinitionNode]) -> SelectionSetNode:
    kept = []
    for node in selection_set.selections:
        if isinstance(node, FieldNode):
            if node.name.value in INTROSPECTION_FIELDS:
                kept.append(node)
        elif isinstance(node, InlineFragmentNode):
            inner = _keep_introspection(node.selection_set, fragments)
            if inner.selections:
                kept.append(dataclasses.replace(node, selection_set=inner))
        elif isinstance(node, FragmentSpreadNode):
            fragment = fragments.get(node.name.value)
            if fragment is not None:
                inner = _keep_introspection(fragment.selection_set, fragments)
                if inner.selections:
                    kept.append(InlineFragmentNode(type_condition=fragment.type_condition, selection_set=inner))
    return dataclasses.replace(selection_set, selections=tuple(kept))


def run_introspection(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: Mapping[str, Any],
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Execute only the operation's root introspection fields; returns (data, errors)."""
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    only = dataclasses.replace(operation, selection_set=_keep_introspection(operation.selection_set, fragments))
    definitions = [only] + list(fragments.values())
    # graphql-core's plain `execute` refuses a schema that declares @defer (the API schema does,
    # since the gateway answers it); introspection never defers, so this returns one result
    result = experimental_execute_incrementally(
        schema, DocumentNode(definitions=tuple(definitions)), variable_values=dict(variables)
    )
    if not isinstance(result, ExecutionResult):
        raise RuntimeError("introspection resolved asynchronously or incrementally")
    errors = [error.formatted for error in result.errors or ()]
    return dict(result.data or {}), errors
