"""The static cost of an operation under `@cost` and `@listSize`, following Apollo's demand-control
model (what Apollo Router calls the static estimated cost), as far as it fits this gateway.

- A field returning an object, interface or union costs 1, a scalar or enum 0, unless `@cost`
  weighs it: the field's own `@cost` first, else the `@cost` of the type it returns.
- A list field multiplies the cost of one item (its weight plus its selections) by the list's
  expected size: the largest slicing argument given (`@listSize(slicingArguments:)`, default
  values included), else `assumedSize`, else the gateway's assumed list size. A connection's
  size (`sizedFields`) goes to the named child fields instead.
- Arguments add their `@cost` weight; an input object argument costs 1 plus its fields' costs.
- A mutation costs 10 more. Introspection and `__typename` are free.
- Fragments add up whatever they select, as if every type condition matched (an upper bound).

The estimate walks the normalized operation with the request's variables, after fields refused
to the caller were taken out: what will not run costs nothing. Apollo also counts the fields a
`@requires` adds; this estimate does not.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import (
    GraphQLArgument,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLUnionType,
    Undefined,
    get_named_type,
)
from graphql.utilities import value_from_ast_untyped

from ..supergraph.demand import ListSize
from ..supergraph.model import Supergraph, describe_type
from .operation import FieldSelection, Operation, Selection

MUTATION_COST = 10


class SlicingError(ValueError):
    """More than one slicing argument was given where `@listSize` asks for exactly one."""


def estimate_cost(
    supergraph: Supergraph, operation: Operation, variables: Mapping[str, Any], assumed_list_size: int
) -> int:
    root = supergraph.mutation_type if operation.kind == "mutation" else supergraph.query_type
    base = MUTATION_COST if operation.kind == "mutation" else 0
    return base + _Estimate(supergraph, variables, assumed_list_size).selections(root or "", operation.selections, {})


class _Estimate:
    def __init__(self, supergraph: Supergraph, variables: Mapping[str, Any], assumed_list_size: int) -> None:
        self.sg = supergraph
        self.rules = supergraph.cost
        self.variables = variables
        self.assumed_list_size = assumed_list_size

    def selections(self, parent: str, selections: tuple[Selection, ...], sized: Mapping[str, int]) -> int:
        """`sized`: child field name -> list size handed down by the parent's `sizedFields`."""
        total = 0
        for sel in selections:
            if isinstance(sel, FieldSelection):
                total += self.field(parent, sel, sized.get(sel.name))
            else:
                total += self.selections(sel.type_condition or parent, sel.selections, sized)
        return total

    def field(self, parent: str, field: FieldSelection, upstream_size: int | None) -> int:
        definition = self.sg.field_def(parent, field.name)
        if field.name.startswith("__") or definition is None:
            return 0
        returns, depth = describe_type(definition.type)
        given = {arg.name.value: value_from_ast_untyped(arg.value, self.variables) for arg in field.arguments}
        defaults = {name: _default(arg) for name, arg in definition.args.items()}
        list_size = self.rules.list_sizes.get((parent, field.name))
        expected = _expected_size(list_size, given, defaults, f"{parent}.{field.name}")
        if depth == 0:
            count = 1
        elif upstream_size is not None:
            count = upstream_size
        else:
            count = expected if expected is not None else self.assumed_list_size
        weight = self.weight(parent, field.name, returns)
        children = 0
        if field.selections:
            sized = {}
            if list_size is not None and expected is not None:
                sized = {name: expected for name in list_size.sized_fields}
            children = self.selections(returns, field.selections, sized)
        arguments_cost = sum(
            self.argument(self.rules.arguments.get((parent, field.name, name)), value, definition.args[name].type)
            for name, value in given.items()
            if name in definition.args
        )
        return count * (weight + children) + arguments_cost

    def weight(self, parent: str, field_name: str, returns: str) -> int:
        weight = self.rules.fields.get((parent, field_name))
        if weight is None:
            weight = self.rules.types.get(returns)
        if weight is None:
            named = self.sg.schema.type_map.get(returns)
            weight = 1 if isinstance(named, (GraphQLObjectType, GraphQLInterfaceType, GraphQLUnionType)) else 0
        return weight

    def argument(self, weight: int | None, value: Any, gql_type: GraphQLInputType) -> int:
        if value is None:
            return 0
        inner = gql_type.of_type if isinstance(gql_type, GraphQLNonNull) else gql_type
        if isinstance(inner, GraphQLList) and isinstance(value, list):
            return (weight or 0) + sum(self.argument(None, item, inner.of_type) for item in value)
        named = get_named_type(inner)
        if isinstance(named, GraphQLInputObjectType) and isinstance(value, dict):
            cost = 1 if weight is None else weight
            for name, item in value.items():
                input_field = named.fields.get(name)
                if input_field is not None:
                    cost += self.argument(self.rules.input_fields.get((named.name, name)), item, input_field.type)
            return cost
        if weight is not None:
            return weight
        return self.rules.types.get(named.name, 0)  # scalars and enums weigh what their @cost says


def _default(argument: GraphQLArgument) -> Any:
    # a schema built from SDL keeps default values as literals
    literal = getattr(argument.ast_node, "default_value", None)
    if literal is not None:
        return value_from_ast_untyped(literal)
    return None if argument.default_value is Undefined else argument.default_value


def _sizes(names: tuple[str, ...], arguments: Mapping[str, Any]) -> list[int]:
    values = (arguments.get(name) for name in names)
    return [max(0, v) for v in values if isinstance(v, int) and not isinstance(v, bool)]


def _expected_size(
    list_size: ListSize | None, given: Mapping[str, Any], defaults: Mapping[str, Any], coordinate: str
) -> int | None:
    """The largest slicing argument the operation gives, else the largest default, else
    `assumedSize`. Giving none is allowed even with `requireOneSlicingArgument` (the assumed size
    then stands in); giving two is refused."""
    if list_size is None:
        return None
    sizes = _sizes(list_size.slicing_arguments, given)
    if list_size.require_one_slicing_argument and len(sizes) > 1:
        names = ", ".join(list_size.slicing_arguments)
        raise SlicingError(
            f"{coordinate} takes exactly one of its slicing arguments ({names}); {len(sizes)} were given."
        )
    sizes = sizes or _sizes(list_size.slicing_arguments, defaults)
    return max(sizes) if sizes else list_size.assumed_size
