"""The supergraph as plain data: which subgraph defines which type, key, field and member.

Everything the planner asks about the join-spec metadata goes through `Supergraph`, so the
rest of the gateway never reads directives itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from graphql import (
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    get_named_type,
    is_list_type,
    is_non_null_type,
)
from graphql.type import GraphQLType

from .access import AccessRules
from .demand import CostRules


@dataclass(frozen=True, slots=True)
class Subgraph:
    name: str  # the name the subgraph was composed under; plans refer to it
    url: str
    enum_value: str  # its value in the supergraph's join__Graph enum


@dataclass(frozen=True, slots=True)
class Key:
    fields: str  # the field set as written in @key
    resolvable: bool


@dataclass(slots=True)
class TypeJoin:
    """How one subgraph defines one type (merged from its @join__type applications)."""

    graph: str
    keys: list[Key] = field(default_factory=list)
    extension: bool = False
    is_interface_object: bool = False

    @property
    def resolvable_keys(self) -> list[Key]:
        return [key for key in self.keys if key.resolvable]


@dataclass(frozen=True, slots=True)
class ContextArgument:
    """An argument the gateway fills from an ancestor's @context (one `join__ContextArgument`)."""

    context: str  # the context's supergraph name, e.g. "Sub__ctx"
    name: str  # the argument's name
    type: str  # its GraphQL type, for the variable definition
    selection: str  # what to read on the ancestor, e.g. "{ prop }"


@dataclass(frozen=True, slots=True)
class FieldJoin:
    """How one subgraph defines one field (one @join__field application, or the implied one)."""

    graph: str
    requires: str | None = None
    provides: str | None = None
    type: str | None = None  # the subgraph's own type for the field, when it differs
    external: bool = False
    override: str | None = None  # name of the subgraph this one took the field from
    override_label: str | None = None  # progressive override label (join v0.4+)
    used_overridden: bool = False
    context_arguments: tuple[ContextArgument, ...] = ()  # arguments filled from @context (join v0.5)


@dataclass(slots=True)
class Supergraph:
    schema: GraphQLSchema  # the whole supergraph, join machinery and @inaccessible parts included
    api_schema: GraphQLSchema  # what clients see
    subgraphs: dict[str, Subgraph]
    types: dict[str, dict[str, TypeJoin]]  # type name -> subgraph name -> join
    fields: dict[tuple[str, str], dict[str, FieldJoin]]  # (type, field) -> subgraph -> join
    implements: dict[str, dict[str, set[str]]]  # type -> subgraph -> interfaces it implements there
    union_members: dict[str, dict[str, set[str]]]  # union -> subgraph -> members there
    query_type: str = "Query"
    mutation_type: str | None = None
    subscription_type: str | None = None
    # Override labels named by any field, so that callers know which ones can matter.
    override_labels: frozenset[str] = frozenset()
    # @authenticated / @requiresScopes / @policy, read from the supergraph
    access: AccessRules = field(default_factory=AccessRules)
    # @cost / @listSize (demand control), read from the supergraph
    cost: CostRules = field(default_factory=CostRules)
    # @context: context name -> the types (objects, interfaces, unions) that set it
    contexts: dict[str, frozenset[str]] = field(default_factory=dict)

    # ---- types ---------------------------------------------------------------------------------

    def named_type(self, name: str) -> GraphQLNamedType:
        found = self.schema.type_map.get(name)
        if found is None:
            raise KeyError(f"unknown type {name!r}")
        return found

    def is_abstract(self, name: str) -> bool:
        return isinstance(self.schema.type_map.get(name), (GraphQLInterfaceType, GraphQLUnionType))

    def is_object(self, name: str) -> bool:
        return isinstance(self.schema.type_map.get(name), GraphQLObjectType)

    def is_union(self, name: str) -> bool:
        return isinstance(self.schema.type_map.get(name), GraphQLUnionType)

    def is_interface(self, name: str) -> bool:
        return isinstance(self.schema.type_map.get(name), GraphQLInterfaceType)

    def possible_types(self, name: str) -> list[str]:
        """Object types a value of this type can have, in the whole supergraph."""
        named = self.schema.type_map.get(name)
        if isinstance(named, (GraphQLInterfaceType, GraphQLUnionType)):
            return [t.name for t in self.schema.get_possible_types(named)]
        return [name] if named is not None else []

    def type_in(self, type_name: str, graph: str) -> TypeJoin | None:
        joins = self.types.get(type_name)
        if joins is None:
            return None
        return joins.get(graph)

    def graphs_of_type(self, type_name: str) -> list[str]:
        return list(self.types.get(type_name, {}))

    def is_interface_object_in(self, type_name: str, graph: str) -> bool:
        join = self.type_in(type_name, graph)
        return join is not None and join.is_interface_object

    def possible_types_in(self, type_name: str, graph: str) -> list[str]:
        """Object types a subgraph can return for a field of this (abstract) type."""
        named = self.schema.type_map.get(type_name)
        if isinstance(named, GraphQLObjectType):
            return [type_name] if self.type_in(type_name, graph) else []
        if isinstance(named, GraphQLUnionType):
            members = self.union_members.get(type_name, {}).get(graph, set())
            return [t.name for t in named.types if t.name in members]
        if isinstance(named, GraphQLInterfaceType):
            found = []
            for candidate in self.schema.get_possible_types(named):
                if type_name in self.implements.get(candidate.name, {}).get(graph, set()):
                    found.append(candidate.name)
            return found
        return []

    def keys_in(self, type_name: str, graph: str) -> list[Key]:
        join = self.type_in(type_name, graph)
        return list(join.resolvable_keys) if join else []

    def is_entity(self, type_name: str) -> bool:
        return any(join.resolvable_keys for join in self.types.get(type_name, {}).values())

    def context_carriers(self, context: str) -> frozenset[str]:
        """Object types whose objects set a context: marked themselves or through an interface or union."""
        found: set[str] = set()
        for type_name in self.contexts.get(context, ()):
            found.update(self.possible_types(type_name))
        return frozenset(found)

    # ---- fields --------------------------------------------------------------------------------

    def field_def(self, type_name: str, field_name: str) -> GraphQLField | None:
        named = self.schema.type_map.get(type_name)
        if isinstance(named, (GraphQLObjectType, GraphQLInterfaceType)):
            return named.fields.get(field_name)
        return None

    def field_join(self, type_name: str, field_name: str, graph: str) -> FieldJoin | None:
        """The subgraph's definition of a field, or None when the subgraph does not define it."""
        return self.fields.get((type_name, field_name), {}).get(graph)

    def field_graphs(self, type_name: str, field_name: str) -> dict[str, FieldJoin]:
        return self.fields.get((type_name, field_name), {})

    def field_type_in(self, type_name: str, field_name: str, graph: str) -> str:
        """The field's return type as the subgraph declares it (SDL form, e.g. `[Book!]`)."""
        join = self.field_join(type_name, field_name, graph)
        if join is not None and join.type:
            return join.type
        definition = self.field_def(type_name, field_name)
        if definition is None:
            raise KeyError(f"unknown field {type_name}.{field_name}")
        return str(definition.type)


def unwrap_type_name(type_sdl: str) -> str:
    """`[Book!]!` -> `Book`."""
    return type_sdl.replace("[", "").replace("]", "").replace("!", "").strip()


def list_depth(type_sdl: str) -> int:
    return type_sdl.count("[")


def describe_type(gql_type: GraphQLType) -> tuple[str, int]:
    """Named type and list depth of a graphql-core type."""
    depth = 0
    current = gql_type
    while True:
        if is_non_null_type(current):
            current = current.of_type  # type: ignore[attr-defined]
        elif is_list_type(current):
            depth += 1
            current = current.of_type  # type: ignore[attr-defined]
        else:
            break
    return get_named_type(gql_type).name, depth
