"""The API schema: the supergraph minus the join/link machinery and everything `@inaccessible`.

Clients are validated against it and introspection answers from it, so what a subgraph keeps
private never shows.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import TypeVar

from graphql import (
    DirectiveDefinitionNode,
    DocumentNode,
    EnumTypeDefinitionNode,
    EnumTypeExtensionNode,
    GraphQLDeferDirective,
    GraphQLSchema,
    InputObjectTypeDefinitionNode,
    InputObjectTypeExtensionNode,
    InterfaceTypeDefinitionNode,
    InterfaceTypeExtensionNode,
    ObjectTypeDefinitionNode,
    ObjectTypeExtensionNode,
    SchemaDefinitionNode,
    SchemaExtensionNode,
    TypeDefinitionNode,
    TypeExtensionNode,
    UnionTypeDefinitionNode,
    UnionTypeExtensionNode,
    build_ast_schema,
)
from graphql.language import DirectiveNode, Node

from .links import Links

N = TypeVar("N", bound=Node)

# Directive names the API schema never keeps, even when a supergraph does not @link them.
_ALWAYS_STRIPPED = {"link", "core", "inaccessible", "tag"}


def _has(node: Node, directive: str) -> bool:
    return any(d.name.value == directive for d in getattr(node, "directives", None) or ())


def _copy(node: N, **changes: object) -> N:
    # graphql-core 3.3 AST nodes are frozen dataclasses.
    return dataclasses.replace(node, **changes)


class _Stripper:
    def __init__(self, links: Links, inaccessible: str) -> None:
        self.links = links
        self.inaccessible = inaccessible

    def is_machinery(self, directive_name: str) -> bool:
        return directive_name in _ALWAYS_STRIPPED or self.links.owns_directive(directive_name)

    def directives(self, directives: Iterable[DirectiveNode] | None) -> tuple[DirectiveNode, ...]:
        return tuple(d for d in directives or () if not self.is_machinery(d.name.value))

    def hidden(self, node: Node) -> bool:
        return _has(node, self.inaccessible)

    def strip_document(self, document: DocumentNode) -> DocumentNode:
        removed_types = {
            d.name.value
            for d in document.definitions
            if isinstance(d, (TypeDefinitionNode, TypeExtensionNode))
            and (self.hidden(d) or self.links.owns_type(d.name.value))
        }
        definitions: list[Node] = []
        for definition in document.definitions:
            if isinstance(definition, DirectiveDefinitionNode):
                if not self.is_machinery(definition.name.value):
                    definitions.append(definition)
                continue
            if isinstance(definition, (SchemaDefinitionNode, SchemaExtensionNode)):
                operation_types = tuple(
                    op for op in definition.operation_types or () if op.type.name.value not in removed_types
                )
                definitions.append(
                    _copy(definition, directives=self.directives(definition.directives), operation_types=operation_types)
                )
                continue
            if isinstance(definition, (TypeDefinitionNode, TypeExtensionNode)):
                if definition.name.value in removed_types:
                    continue
                definitions.append(self.strip_type(definition, removed_types))
                continue
            definitions.append(definition)
        return DocumentNode(definitions=tuple(definitions))

    def strip_type(self, node: Node, removed_types: set[str]) -> Node:
        changes: dict[str, object] = {"directives": self.directives(getattr(node, "directives", None))}
        if isinstance(
            node,
            (
                ObjectTypeDefinitionNode,
                ObjectTypeExtensionNode,
                InterfaceTypeDefinitionNode,
                InterfaceTypeExtensionNode,
            ),
        ):
            changes["interfaces"] = tuple(i for i in node.interfaces or () if i.name.value not in removed_types)
            changes["fields"] = tuple(
                _copy(
                    f,
                    directives=self.directives(f.directives),
                    arguments=tuple(
                        _copy(a, directives=self.directives(a.directives))
                        for a in f.arguments or ()
                        if not self.hidden(a)
                    ),
                )
                for f in node.fields or ()
                if not self.hidden(f)
            )
        elif isinstance(node, (InputObjectTypeDefinitionNode, InputObjectTypeExtensionNode)):
            changes["fields"] = tuple(
                _copy(f, directives=self.directives(f.directives)) for f in node.fields or () if not self.hidden(f)
            )
        elif isinstance(node, (EnumTypeDefinitionNode, EnumTypeExtensionNode)):
            changes["values"] = tuple(
                _copy(v, directives=self.directives(v.directives)) for v in node.values or () if not self.hidden(v)
            )
        elif isinstance(node, (UnionTypeDefinitionNode, UnionTypeExtensionNode)):
            changes["types"] = tuple(t for t in node.types or () if t.name.value not in removed_types)
        return _copy(node, **changes)


def build_api_schema(document: DocumentNode, links: Links) -> GraphQLSchema:
    inaccessible_spec = links.find("inaccessible")
    inaccessible = inaccessible_spec.directive("inaccessible") if inaccessible_spec else "inaccessible"
    stripped = _Stripper(links, inaccessible).strip_document(document)
    schema = build_ast_schema(stripped, assume_valid_sdl=True)
    if schema.get_directive("defer") is None:
        # the gateway answers @defer itself (incremental delivery), as Apollo Router and Hive
        # Gateway do: clients may use it whatever the subgraphs support
        schema = GraphQLSchema(**{**schema.to_kwargs(), "directives": (*schema.directives, GraphQLDeferDirective)})
    return schema
