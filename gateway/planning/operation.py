"""The client operation in the form the planner works on.

Named fragments are inlined, `@skip`/`@include` are decided with the request's variables (so a
plan is valid for one combination of those booleans, which is part of the plan cache key), and
each field carries its arguments both as AST (to print into subgraph queries) and as a string
that identifies them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    VariableDefinitionNode,
    print_ast,
)
from graphql.language import ArgumentNode, DirectiveNode, SelectionSetNode, ValueNode, VariableNode
from graphql.utilities import value_from_ast_untyped


@dataclass(frozen=True, slots=True, eq=False)
class FieldSelection:
    key: str  # response key (alias or name)
    name: str
    arguments: tuple[ArgumentNode, ...] = ()
    selections: tuple[Selection, ...] | None = None
    args_key: str = ""  # printed arguments; equal strings mean the same arguments

    @property
    def is_typename(self) -> bool:
        return self.name == "__typename"


@dataclass(frozen=True, slots=True, eq=False)
class FragmentSelection:
    type_condition: str | None
    selections: tuple[Selection, ...]


Selection = FieldSelection | FragmentSelection


@dataclass(slots=True)
class Operation:
    kind: str  # "query" | "mutation" | "subscription"
    name: str | None
    selections: tuple[Selection, ...]
    variable_definitions: dict[str, VariableDefinitionNode] = field(default_factory=dict)
    # per-operation memo for response shaping (keyed by identity of this operation's selections)
    shape_cache: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)


class OperationError(ValueError):
    pass


def args_key(arguments: Iterable[ArgumentNode]) -> str:
    parts = sorted(f"{arg.name.value}:{print_ast(arg.value)}" for arg in arguments)
    return ",".join(parts)


def make_field(
    key: str,
    name: str,
    arguments: tuple[ArgumentNode, ...] = (),
    selections: tuple[Selection, ...] | None = None,
) -> FieldSelection:
    return FieldSelection(key, name, arguments, selections, args_key(arguments))


def find_operation(document: DocumentNode, operation_name: str | None) -> OperationDefinitionNode:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name:
        for op in operations:
            if op.name and op.name.value == operation_name:
                return op
        raise OperationError(f'Unknown operation named "{operation_name}".')
    if len(operations) == 1:
        return operations[0]
    if not operations:
        raise OperationError("Must provide an operation.")
    raise OperationError("Must provide operation name if query contains multiple operations.")


def condition_variables(document: DocumentNode) -> tuple[str, ...]:
    """Variables that decide an @skip or @include anywhere in the document."""
    found: set[str] = set()

    def visit(selection_set: SelectionSetNode | None) -> None:
        for selection in selection_set.selections if selection_set else ():
            for directive in selection.directives or ():
                if directive.name.value in ("skip", "include"):
                    for arg in directive.arguments or ():
                        if isinstance(arg.value, VariableNode):
                            found.add(arg.value.name.value)
            if isinstance(selection, (FieldNode, InlineFragmentNode)):
                visit(selection.selection_set)

    for definition in document.definitions:
        if isinstance(definition, (OperationDefinitionNode, FragmentDefinitionNode)):
            visit(definition.selection_set)
    return tuple(sorted(found))


def _included(directives: Sequence[DirectiveNode] | None, variables: Mapping[str, Any]) -> bool:
    for directive in directives or ():
        name = directive.name.value
        if name not in ("skip", "include"):
            continue
        value: Any = None
        for arg in directive.arguments or ():
            if arg.name.value == "if":
                value = value_from_ast_untyped(arg.value, variables)
        if name == "skip" and value is True:
            return False
        if name == "include" and value is not True:
            return False
    return True


class _Normalizer:
    def __init__(self, document: DocumentNode, variables: Mapping[str, Any]) -> None:
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.variables = variables

    def selections(self, selection_set: SelectionSetNode | None, seen: frozenset[str]) -> tuple[Selection, ...]:
        result: list[Selection] = []
        for node in selection_set.selections if selection_set else ():
            if not _included(node.directives, self.variables):
                continue
            if isinstance(node, FieldNode):
                sub = self.selections(node.selection_set, seen) if node.selection_set else None
                arguments = tuple(node.arguments or ())
                result.append(
                    make_field(node.alias.value if node.alias else node.name.value, node.name.value, arguments, sub)
                )
            elif isinstance(node, InlineFragmentNode):
                condition = node.type_condition.name.value if node.type_condition else None
                result.append(FragmentSelection(condition, self.selections(node.selection_set, seen)))
            elif isinstance(node, FragmentSpreadNode):
                name = node.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in seen:
                    continue  # validation rejects both; stay safe if it was skipped
                result.append(
                    FragmentSelection(
                        fragment.type_condition.name.value,
                        self.selections(fragment.selection_set, seen | {name}),
                    )
                )
        return tuple(result)


def normalize(
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any],
) -> Operation:
    definition = find_operation(document, operation_name)
    kind = {
        OperationType.QUERY: "query",
        OperationType.MUTATION: "mutation",
        OperationType.SUBSCRIPTION: "subscription",
    }[definition.operation]
    selections = _Normalizer(document, variables).selections(definition.selection_set, frozenset())
    return Operation(
        kind=kind,
        name=definition.name.value if definition.name else None,
        selections=selections,
        variable_definitions={v.variable.name.value: v for v in definition.variable_definitions or ()},
    )


def variables_in(value: ValueNode, into: set[str]) -> None:
    if isinstance(value, VariableNode):
        into.add(value.name.value)
        return
    for child in getattr(value, "values", None) or ():
        variables_in(child, into)
    for object_field in getattr(value, "fields", None) or ():
        variables_in(object_field.value, into)
