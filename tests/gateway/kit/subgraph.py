"""A small federation subgraph on graphql-core, for the gateway's tests.

It reads the same SDL the fixtures were composed from, adds what the federation spec asks of a
subgraph (`_service`, `_entities`, `_Any`, `_Entity`), resolves fields from plain dicts or given
resolvers, and records every request so tests can count and inspect what the gateway sent.
Behaviours (`http500`, `slow`, `garbage`) and `delay` let tests simulate a failing or slow subgraph.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from graphql import (
    DocumentNode,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    InterfaceTypeDefinitionNode,
    InterfaceTypeExtensionNode,
    ObjectTypeDefinitionNode,
    ObjectTypeExtensionNode,
    SchemaDefinitionNode,
    SchemaExtensionNode,
    build_ast_schema,
    graphql,
    parse,
)
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

Resolver = Callable[..., Any]
Reference = Callable[[dict[str, Any]], dict[str, Any] | None]

# One sequence for all subgraphs, so tests can check the order of requests across them.
_sequence = itertools.count()

_FEDERATION_SDL = """
scalar _Any
type _Service { sdl: String }
"""


def _has_key(node: Any) -> bool:
    return any(d.name.value == "key" for d in node.directives or ())


def _executable_document(sdl: str) -> tuple[DocumentNode, list[str]]:
    """Turn a subgraph SDL into one graphql-core can build, and list its entity types."""
    document = parse(sdl)
    merged: dict[str, Any] = {}
    order: list[str] = []
    others = []
    for node in document.definitions:
        if isinstance(node, (SchemaDefinitionNode, SchemaExtensionNode)):
            continue
        if isinstance(node, (ObjectTypeExtensionNode, InterfaceTypeExtensionNode)):
            kind = ObjectTypeDefinitionNode if isinstance(node, ObjectTypeExtensionNode) else InterfaceTypeDefinitionNode
            node = kind(
                name=node.name, interfaces=node.interfaces, directives=node.directives, fields=node.fields
            )
        if isinstance(node, (ObjectTypeDefinitionNode, InterfaceTypeDefinitionNode)):
            name = node.name.value
            if name in merged:
                previous = merged[name]
                merged[name] = dataclasses.replace(
                    previous,
                    fields=tuple(previous.fields or ()) + tuple(node.fields or ()),
                    directives=tuple(previous.directives or ()) + tuple(node.directives or ()),
                )
            else:
                merged[name] = node
                order.append(name)
            continue
        others.append(node)
    entities = [
        name for name in order if isinstance(merged[name], ObjectTypeDefinitionNode) and _has_key(merged[name])
    ]
    extra = _FEDERATION_SDL
    if entities:
        extra += "union _Entity = " + " | ".join(entities) + "\n"
    query_fields = "_service: _Service!\n"
    if entities:
        query_fields += "_entities(representations: [_Any!]!): [_Entity]!\n"
    federation_query = parse("type Query {" + query_fields + "}").definitions[0]
    if "Query" not in merged:
        merged["Query"] = federation_query
        order.append("Query")
    else:
        merged["Query"] = dataclasses.replace(
            merged["Query"], fields=tuple(merged["Query"].fields or ()) + tuple(federation_query.fields)
        )
    definitions = [merged[name] for name in order] + others + list(parse(extra).definitions)
    return DocumentNode(definitions=tuple(definitions)), entities


class Subgraph:
    def __init__(
        self,
        name: str,
        sdl: str,
        resolvers: dict[str, dict[str, Resolver]] | None = None,
        references: dict[str, Reference] | None = None,
    ) -> None:
        self.name = name
        self.sdl = sdl
        self.references = references or {}
        self.requests: list[dict[str, Any]] = []
        self.behaviour: str | None = None  # None, "http500", "slow", "garbage"
        self.delay = 0.0
        self.schema = self._build(resolvers or {})

    @classmethod
    def from_file(cls, path: Path, **kwargs: Any) -> Subgraph:
        return cls(path.stem, path.read_text(), **kwargs)

    def _build(self, resolvers: dict[str, dict[str, Resolver]]) -> GraphQLSchema:
        document, _ = _executable_document(self.sdl)
        schema = build_ast_schema(document, assume_valid_sdl=True)
        for type_name, fields in resolvers.items():
            named = schema.type_map[type_name]
            assert isinstance(named, GraphQLObjectType), type_name
            for field_name, resolver in fields.items():
                named.fields[field_name].resolve = resolver
        for named in schema.type_map.values():
            if isinstance(named, (GraphQLInterfaceType, GraphQLUnionType)):
                named.resolve_type = lambda value, info, abstract: value.get("__typename")
        query = schema.query_type
        assert query is not None
        query.fields["_service"].resolve = lambda _root, _info: {"sdl": self.sdl}
        if "_entities" in query.fields:
            query.fields["_entities"].resolve = self._entities
        return schema

    def _entities(self, _root: Any, _info: Any, representations: list[dict[str, Any]]) -> list[Any]:
        found = []
        for representation in representations:
            typename = representation["__typename"]
            reference = self.references.get(typename)
            entity = reference(representation) if reference else dict(representation)
            if entity is not None and "__typename" not in entity:
                entity = {**entity, "__typename": typename}
            found.append(entity)
        return found

    # ---- inspecting what the gateway sent -------------------------------------------------

    def reset(self) -> None:
        self.requests.clear()
        self.behaviour = None
        self.delay = 0.0

    def representations(self) -> list[list[dict[str, Any]]]:
        return [r["variables"].get("representations", []) for r in self.requests if "_entities" in r["query"]]

    # ---- the HTTP app -----------------------------------------------------------------------

    async def handle(self, request: Request) -> Response:
        payload = orjson.loads(await request.body())
        self.requests.append(
            {
                "query": payload.get("query", ""),
                "variables": payload.get("variables") or {},
                "headers": dict(request.headers),
                "sequence": next(_sequence),
            }
        )
        if self.behaviour == "http500":
            return Response(b"upstream exploded", status_code=500, media_type="text/plain")
        if self.behaviour == "garbage":
            return Response(b"<html>not graphql</html>", status_code=200, media_type="text/html")
        if self.behaviour == "slow" or self.delay:
            await asyncio.sleep(self.delay or 5.0)
        result = await graphql(
            self.schema,
            payload.get("query", ""),
            variable_values=payload.get("variables"),
            operation_name=payload.get("operationName"),
        )
        body: dict[str, Any] = {"data": result.data}
        if result.errors:
            body["errors"] = [error.formatted for error in result.errors]
        return Response(orjson.dumps(body), media_type="application/json")

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/graphql", self.handle, methods=["POST"])])
