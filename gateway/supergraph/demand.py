"""Demand control: `@cost` and `@listSize` (federation 2.9) as the supergraph carries them.

Composition links them through the cost spec (`https://specs.apollo.dev/cost/v0.1`); this module
reads them into plain data for the cost estimate (`planning/cost.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
)
from graphql.language import Node
from graphql.utilities import value_from_ast_untyped

from .links import Links


@dataclass(frozen=True, slots=True)
class ListSize:
    """How many items a list field is expected to return (`@listSize`)."""

    assumed_size: int | None = None
    slicing_arguments: tuple[str, ...] = ()
    sized_fields: tuple[str, ...] = ()  # the size applies to these child fields (connections)
    require_one_slicing_argument: bool = True


@dataclass(slots=True)
class CostRules:
    linked: bool = False  # the supergraph links the cost spec: estimate with these rules
    types: dict[str, int] = field(default_factory=dict)  # objects, scalars, enums with a @cost weight
    fields: dict[tuple[str, str], int] = field(default_factory=dict)  # output fields
    arguments: dict[tuple[str, str, str], int] = field(default_factory=dict)  # (type, field, argument)
    input_fields: dict[tuple[str, str], int] = field(default_factory=dict)  # (input type, field)
    list_sizes: dict[tuple[str, str], ListSize] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return self.linked


def _directive(node: Node | None, name: str | None) -> dict[str, Any] | None:
    if node is None or name is None:
        return None
    for directive in getattr(node, "directives", None) or ():
        if directive.name.value == name:
            return {a.name.value: value_from_ast_untyped(a.value) for a in directive.arguments or ()}
    return None


def _weight(nodes: list[Node | None], name: str | None) -> int | None:
    for node in nodes:
        args = _directive(node, name)
        if args is not None and isinstance(args.get("weight"), int):
            return args["weight"]
    return None


def _list_size(args: dict[str, Any]) -> ListSize:
    assumed = args.get("assumedSize")
    return ListSize(
        assumed_size=assumed if isinstance(assumed, int) else None,
        slicing_arguments=tuple(args.get("slicingArguments") or ()),
        sized_fields=tuple(args.get("sizedFields") or ()),
        require_one_slicing_argument=args.get("requireOneSlicingArgument", True) is not False,
    )


def _type_nodes(named: Any) -> list[Node | None]:
    return [getattr(named, "ast_node", None), *(getattr(named, "extension_ast_nodes", None) or ())]


def read_cost_rules(schema: GraphQLSchema, links: Links) -> CostRules:
    spec = links.find("cost")
    if spec is None:
        return CostRules()
    cost, list_size = spec.directive("cost"), spec.directive("listSize")
    rules = CostRules(linked=True)
    for name, named in schema.type_map.items():
        if name.startswith("__") or links.owns_type(name):
            continue
        if isinstance(named, (GraphQLObjectType, GraphQLScalarType, GraphQLEnumType)):
            weight = _weight(_type_nodes(named), cost)
            if weight is not None:
                rules.types[name] = weight
        if isinstance(named, (GraphQLObjectType, GraphQLInterfaceType)):
            for field_name, definition in named.fields.items():
                weight = _weight([definition.ast_node], cost)
                if weight is not None:
                    rules.fields[(name, field_name)] = weight
                sized = _directive(definition.ast_node, list_size)
                if sized is not None:
                    rules.list_sizes[(name, field_name)] = _list_size(sized)
                for arg_name, arg in definition.args.items():
                    weight = _weight([arg.ast_node], cost)
                    if weight is not None:
                        rules.arguments[(name, field_name, arg_name)] = weight
        elif isinstance(named, GraphQLInputObjectType):
            for field_name, input_field in named.fields.items():
                weight = _weight([input_field.ast_node], cost)
                if weight is not None:
                    rules.input_fields[(name, field_name)] = weight
    return rules
