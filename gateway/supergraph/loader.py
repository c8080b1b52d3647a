"""Reading a supergraph SDL (join v0.2–v0.5 under link v1.0 or core) into a `Supergraph`."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from graphql import (
    DocumentNode,
    GraphQLEnumType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLUnionType,
    build_ast_schema,
    parse,
)
from graphql.language import DirectiveNode, Node
from graphql.utilities import value_from_ast_untyped

from .access import read_access_rules
from .api_schema import build_api_schema
from .demand import read_cost_rules
from .links import Links, LinkedSpec, read_links
from .model import ContextArgument, FieldJoin, Key, Subgraph, Supergraph, TypeJoin


class SupergraphError(ValueError):
    """The SDL is not a supergraph this gateway can run."""


def _directives(node: Node | None, name: str) -> Iterable[dict[str, Any]]:
    if node is None:
        return
    for directive in getattr(node, "directives", None) or ():
        if directive.name.value == name:
            yield _args(directive)


def _args(directive: DirectiveNode) -> dict[str, Any]:
    return {arg.name.value: value_from_ast_untyped(arg.value) for arg in directive.arguments or ()}


def _nodes(named: Any) -> list[Node]:
    """A type's definition node and any extension nodes (directives may sit on either)."""
    nodes = [named.ast_node] if getattr(named, "ast_node", None) is not None else []
    nodes.extend(getattr(named, "extension_ast_nodes", None) or ())
    return nodes


class _Reader:
    def __init__(self, document: DocumentNode) -> None:
        self.document = document
        self.links: Links = read_links(document)
        join = self.links.find("join")
        if join is None:
            raise SupergraphError("not a supergraph: the schema does not @link the join spec")
        if join.version_tuple < (0, 2):
            raise SupergraphError(f"join {join.version} (federation 1 supergraphs) is not supported")
        self.join: LinkedSpec = join
        self.schema = build_ast_schema(document, assume_valid_sdl=True)
        self.graph_names: dict[str, str] = {}  # join__Graph enum value -> subgraph name

    def d(self, element: str) -> str:
        return self.join.directive(element)

    def read(self) -> Supergraph:
        subgraphs = self.read_graphs()
        types: dict[str, dict[str, TypeJoin]] = {}
        fields: dict[tuple[str, str], dict[str, FieldJoin]] = {}
        implements: dict[str, dict[str, set[str]]] = {}
        union_members: dict[str, dict[str, set[str]]] = {}
        labels: set[str] = set()
        has_implements = False
        has_union_members = False

        for name, named in self.schema.type_map.items():
            if name.startswith("__") or self.links.owns_type(name):
                continue
            joins = self.read_type_joins(named)
            if not joins:
                continue
            types[name] = joins
            if isinstance(named, (GraphQLObjectType, GraphQLInterfaceType)):
                per_graph: dict[str, set[str]] = {}
                for node in _nodes(named):
                    for args in _directives(node, self.d("implements")):
                        has_implements = True
                        per_graph.setdefault(self.graph(args["graph"]), set()).add(args["interface"])
                implements[name] = per_graph
                for field_name, field_def in named.fields.items():
                    field_joins = self.read_field_joins(field_def.ast_node, joins)
                    fields[(name, field_name)] = field_joins
                    labels.update(j.override_label for j in field_joins.values() if j.override_label)
            elif isinstance(named, GraphQLUnionType):
                per_graph = {}
                for node in _nodes(named):
                    for args in _directives(node, self.d("unionMember")):
                        has_union_members = True
                        per_graph.setdefault(self.graph(args["graph"]), set()).add(args["member"])
                union_members[name] = per_graph

        # Older join versions do not say which subgraph implements what: assume every subgraph
        # that knows both types links them.
        if not has_implements:
            for name, named in self.schema.type_map.items():
                if isinstance(named, (GraphQLObjectType, GraphQLInterfaceType)) and name in types:
                    implements[name] = {
                        graph: {i.name for i in named.interfaces if graph in types.get(i.name, {})}
                        for graph in types[name]
                    }
        if not has_union_members:
            for name, named in self.schema.type_map.items():
                if isinstance(named, GraphQLUnionType) and name in types:
                    union_members[name] = {
                        graph: {m.name for m in named.types if graph in types.get(m.name, {})}
                        for graph in types[name]
                    }

        query = self.schema.query_type.name if self.schema.query_type else "Query"
        mutation = self.schema.mutation_type.name if self.schema.mutation_type else None
        subscription = self.schema.subscription_type.name if self.schema.subscription_type else None
        return Supergraph(
            schema=self.schema,
            api_schema=build_api_schema(self.document, self.links),
            subgraphs=subgraphs,
            types=types,
            fields=fields,
            implements=implements,
            union_members=union_members,
            query_type=query,
            mutation_type=mutation,
            subscription_type=subscription,
            override_labels=frozenset(labels),
            access=read_access_rules(self.schema, self.links),
            cost=read_cost_rules(self.schema, self.links),
            contexts=self.read_contexts(),
        )

    def read_contexts(self) -> dict[str, frozenset[str]]:
        """Which types set which context (`@context(name:)` of the linked context spec)."""
        spec = self.links.find("context")
        if spec is None:
            return {}
        directive = spec.directive("context")
        found: dict[str, set[str]] = {}
        for name, named in self.schema.type_map.items():
            for node in _nodes(named):
                for args in _directives(node, directive):
                    found.setdefault(args["name"], set()).add(name)
        return {context: frozenset(types) for context, types in found.items()}

    def read_graphs(self) -> dict[str, Subgraph]:
        enum = self.schema.type_map.get(self.join.type_name("Graph"))
        if not isinstance(enum, GraphQLEnumType):
            raise SupergraphError("not a supergraph: no join__Graph enum")
        subgraphs: dict[str, Subgraph] = {}
        for value_name, value in enum.values.items():
            found = list(_directives(value.ast_node, self.d("graph")))
            if not found:
                raise SupergraphError(f"join__Graph value {value_name} has no @join__graph")
            name, url = found[0].get("name"), found[0].get("url")
            if not isinstance(name, str) or not isinstance(url, str):
                raise SupergraphError(f"join__Graph value {value_name} lacks a name or url")
            self.graph_names[value_name] = name
            subgraphs[name] = Subgraph(name=name, url=url, enum_value=value_name)
        return subgraphs

    def graph(self, enum_value: Any) -> str:
        try:
            return self.graph_names[enum_value]
        except KeyError:
            raise SupergraphError(f"unknown join__Graph value {enum_value!r}") from None

    def read_type_joins(self, named: Any) -> dict[str, TypeJoin]:
        joins: dict[str, TypeJoin] = {}
        for node in _nodes(named):
            for args in _directives(node, self.d("type")):
                graph = self.graph(args["graph"])
                join = joins.setdefault(graph, TypeJoin(graph=graph))
                if args.get("key"):
                    join.keys.append(Key(fields=args["key"], resolvable=args.get("resolvable", True) is not False))
                join.extension = join.extension or bool(args.get("extension"))
                join.is_interface_object = join.is_interface_object or bool(args.get("isInterfaceObject"))
        return joins

    def read_field_joins(self, node: Node | None, type_joins: dict[str, TypeJoin]) -> dict[str, FieldJoin]:
        applications = list(_directives(node, self.d("field")))
        with_graph = [args for args in applications if args.get("graph") is not None]
        if not applications:
            # No @join__field: every subgraph that defines the type defines the field.
            return {graph: FieldJoin(graph=graph) for graph in type_joins}
        joins: dict[str, FieldJoin] = {}
        for args in with_graph:
            graph = self.graph(args["graph"])
            joins[graph] = FieldJoin(
                graph=graph,
                requires=args.get("requires") or None,
                provides=args.get("provides") or None,
                type=args.get("type") or None,
                external=bool(args.get("external")),
                override=args.get("override") or None,
                override_label=args.get("overrideLabel") or None,
                used_overridden=bool(args.get("usedOverridden")),
                context_arguments=tuple(
                    ContextArgument(a["context"], a["name"], a["type"], a["selection"])
                    for a in args.get("contextArguments") or ()
                ),
            )
        # A bare @join__field (no graph) means no subgraph resolves the field on this type
        # (it comes from an @interfaceObject), which an empty mapping expresses.
        return joins


def load_supergraph(sdl: str) -> Supergraph:
    try:
        document = parse(sdl)
    except Exception as error:  # graphql-core raises GraphQLSyntaxError
        raise SupergraphError(f"supergraph SDL does not parse: {error}") from error
    return _Reader(document).read()


def load_supergraph_file(path: str | Path) -> Supergraph:
    return load_supergraph(Path(path).read_text(encoding="utf-8"))
