"""Shaping the merged subgraph data into the response the client asked for.

Walks the client's operation over the merged tree against the API schema: keeps exactly the
requested fields in order (the planner's extra keys fall away), answers `__typename`, drops
enum values the API schema does not have, and applies GraphQL's null rules: a null in a
non-null position makes the nearest nullable parent null, with an error unless a subgraph
already reported one there or a whole fetch failed (one failure, one error). Every error this
adds carries a code: `SUBGRAPH_BAD_RESPONSE`, since a subgraph broke its schema's promise.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLNamedType,
    GraphQLScalarType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
)
from graphql.type import GraphQLOutputType

from ..planning.operation import FieldSelection, Selection

_BUBBLE = object()  # a null in a non-null position, on its way to a nullable parent
BAD_RESPONSE = "SUBGRAPH_BAD_RESPONSE"


class ResponseShaper:
    def __init__(self, api_schema: GraphQLSchema) -> None:
        self.schema = api_schema
        self._possible: dict[str, frozenset[str]] = {}

    def possible(self, abstract: str) -> frozenset[str]:
        found = self._possible.get(abstract)
        if found is None:
            named = self.schema.type_map.get(abstract)
            if isinstance(named, (GraphQLInterfaceType, GraphQLUnionType)):
                found = frozenset(t.name for t in self.schema.get_possible_types(named))
            else:
                found = frozenset((abstract,))
            self._possible[abstract] = found
        return found

    def shape(
        self,
        root_type: GraphQLObjectType,
        selections: tuple[Selection, ...],
        data: dict[str, Any] | None,
        errors: list[dict[str, Any]],
        introspection: dict[str, Any] | None = None,
        cache: dict[Any, list[tuple[str, list[FieldSelection]]]] | None = None,
        denied: frozenset[int] = frozenset(),
    ) -> dict[str, Any] | None:
        """`cache` memoizes field collection; give one that lives as long as `selections` do
        (the plan cache keeps one per operation), since it is keyed by object identity.
        `denied`: ids of fields the caller may not see (answered null; their errors are already
        in `errors`)."""
        run = _Run(self, errors, {} if cache is None else cache, denied)
        result = run.root(root_type, selections, data or {}, introspection or {})
        return None if result is _BUBBLE else result

    def collect(
        self,
        type_name: str,
        selections: tuple[Selection, ...],
        cache: dict[Any, list[tuple[str, list[FieldSelection]]]],
    ) -> list[tuple[str, list[FieldSelection]]]:
        """Fields that apply to an object of this type, by response key."""
        cache_key = (type_name, id(selections), "root")
        found = cache.get(cache_key)
        if found is not None:
            return found
        grouped: dict[str, list[FieldSelection]] = {}
        self._collect(type_name, selections, grouped)
        result = list(grouped.items())
        cache[cache_key] = result
        return result

    def collect_children(
        self,
        type_name: str,
        fields: list[FieldSelection],
        cache: dict[Any, list[tuple[str, list[FieldSelection]]]],
    ) -> list[tuple[str, list[FieldSelection]]]:
        """Sub-fields of (same-key) fields that apply to an object of this type, by response key."""
        cache_key = (type_name, tuple(id(f) for f in fields))
        found = cache.get(cache_key)
        if found is not None:
            return found
        grouped: dict[str, list[FieldSelection]] = {}
        for field in fields:
            self._collect(type_name, field.selections or (), grouped)
        result = list(grouped.items())
        cache[cache_key] = result
        return result

    def _collect(self, type_name: str, selections: Sequence[Selection], grouped: dict[str, list[FieldSelection]]) -> None:
        for sel in selections:
            if isinstance(sel, FieldSelection):
                grouped.setdefault(sel.key, []).append(sel)
                continue
            condition = sel.type_condition
            if condition is None or condition == type_name or type_name in self.possible(condition):
                self._collect(type_name, sel.selections, grouped)


_TYPENAME, _LEAF, _ENUM, _OBJECT, _COMPOSITE, _DENIED = range(6)

# Paths are built as linked pairs (parent, key) and only turned into lists for an error.
Path = tuple[Any, Any] | None


def _path_list(path: Path) -> list[Any]:
    keys: list[Any] = []
    while path is not None:
        path, key = path
        keys.append(key)
    keys.reverse()
    return keys


def _starts(path: tuple[Any, ...], prefix: tuple[Any, ...]) -> bool:
    """Does `path` begin with `prefix`? `@` (any item of a list, in the paths of fields refused to
    the caller, which are known before there is data) matches every index."""
    if len(path) < len(prefix):
        return False
    return all(_same_step(a, b) for a, b in zip(path, prefix))


def _same_step(a: Any, b: Any) -> bool:
    return a == b or (a == "@" and isinstance(b, int)) or (b == "@" and isinstance(a, int))


class _Run:
    def __init__(
        self,
        shaper: ResponseShaper,
        errors: list[dict[str, Any]],
        cache: dict[Any, Any],
        denied: frozenset[int] = frozenset(),
    ) -> None:
        self.shaper = shaper
        self.errors = errors
        self.cache = cache
        self.denied = denied
        self._error_paths = [tuple(e.get("path") or ()) for e in errors]
        # An error without a path (a fetch that failed whole, a subgraph's request-level error)
        # explains every null it left: the client gets that error alone.
        self._failed_fetch = any(not path for path in self._error_paths)

    def root(
        self,
        root_type: GraphQLObjectType,
        selections: tuple[Selection, ...],
        data: dict[str, Any],
        introspection: dict[str, Any],
    ) -> Any:
        result: dict[str, Any] = {}
        for key, fields in self.shaper.collect(root_type.name, selections, self.cache):
            name = fields[0].name
            if name == "__typename":
                result[key] = root_type.name
            elif name in ("__schema", "__type"):
                result[key] = introspection.get(key)
            else:
                definition = root_type.fields.get(name)
                if definition is None:
                    continue
                if self.is_denied(fields):
                    if isinstance(definition.type, GraphQLNonNull):
                        return _BUBBLE
                    result[key] = None
                    continue
                value = self.complete(definition.type, data.get(key), fields, (None, key), root_type.name, name)
                if value is _BUBBLE:
                    return _BUBBLE
                result[key] = value
        return result

    def is_denied(self, fields: list[FieldSelection]) -> bool:
        return bool(self.denied) and all(id(f) in self.denied for f in fields)

    def null_error(self, path: Path, parent_type: str, field: str) -> None:
        if self._failed_fetch:
            return
        here = tuple(_path_list(path))
        parent = here[:-1]
        for existing in self._error_paths:
            # An error already explains this null when it sits at or below this path (its cause),
            # above it, or beside it in the same object (a subgraph nulls an object's other fields
            # along with the one that failed).
            if not existing:
                continue
            if _starts(existing, here) or _starts(here, existing):
                return
            if len(existing) > len(parent) and _starts(existing, parent):
                return
        self._error_paths.append(here)
        self.errors.append(
            {
                "message": f"Cannot return null for non-nullable field {parent_type}.{field}.",
                "path": list(here),
                "extensions": {"code": BAD_RESPONSE},
            }
        )

    def invalid(self, path: Path, message: str) -> None:
        here = _path_list(path)
        self.errors.append({"message": message, "path": here, "extensions": {"code": BAD_RESPONSE}})
        self._error_paths.append(tuple(here))
        return None

    def complete(
        self,
        gql_type: GraphQLOutputType,
        value: Any,
        fields: list[FieldSelection],
        path: Path,
        parent: str,
        field: str,
    ) -> Any:
        if isinstance(gql_type, GraphQLNonNull):
            result = self.complete(gql_type.of_type, value, fields, path, parent, field)
            if result is None:
                self.null_error(path, parent, field)
                return _BUBBLE
            return result
        if value is None:
            return None
        if isinstance(gql_type, GraphQLList):
            if not isinstance(value, list):
                return self.invalid(path, f"Expected a list for field {parent}.{field}.")
            item_type = gql_type.of_type
            if isinstance(item_type, GraphQLNonNull) and isinstance(item_type.of_type, GraphQLObjectType):
                return self.complete_object_list(item_type.of_type, value, fields, path, parent, field)
            items = []
            for index, item in enumerate(value):
                completed = self.complete(item_type, item, fields, (path, index), parent, field)
                if completed is _BUBBLE:
                    return None
                items.append(completed)
            return items
        if isinstance(gql_type, GraphQLEnumType):
            if isinstance(value, str) and value in gql_type.values:
                return value
            return self.invalid(path, f'Enum "{gql_type.name}" cannot represent value: {value!r}')
        if isinstance(gql_type, (GraphQLObjectType, GraphQLInterfaceType, GraphQLUnionType)):
            if not isinstance(value, dict):
                return self.invalid(path, f"Expected an object for field {parent}.{field}.")
            return self.complete_object(gql_type, value, fields, path)
        return value  # scalars pass through as the subgraph serialized them

    def complete_object_list(
        self, item_type: GraphQLObjectType, value: list[Any], fields: list[FieldSelection], path: Path, parent: str, field: str
    ) -> Any:
        """`[T!]` of an object type, the usual list: each item completed without two `complete` calls."""
        items = []
        entries = self.entries(item_type, fields)  # one concrete type: the same for every item
        for index, item in enumerate(value):
            completed = self.complete_fields(item_type, item, entries, (path, index)) if type(item) is dict else None
            if completed is None:
                if item is not None and type(item) is not dict:
                    self.invalid((path, index), f"Expected an object for field {parent}.{field}.")
                self.null_error((path, index), parent, field)
                return None  # a null item in [T!] makes the list null
            items.append(completed)
        return items

    def entries(self, runtime: GraphQLNamedType, fields: list[FieldSelection]) -> list[tuple[Any, ...]]:
        """What to do for each response key of an object of this type (memoized per operation)."""
        # `fields` lists come from this operation's collection cache, so their identity is stable
        cache_key = ("entries", runtime.name, id(fields))
        found = self.cache.get(cache_key)
        if found is not None:
            return found
        entries: list[tuple[Any, ...]] = []
        for key, sub_fields in self.shaper.collect_children(runtime.name, fields, self.cache):
            name = sub_fields[0].name
            if name == "__typename":
                entries.append((key, _TYPENAME, None, None, sub_fields, name, False))
                continue
            if not isinstance(runtime, (GraphQLObjectType, GraphQLInterfaceType)):
                continue  # only __typename can be asked on a union itself
            definition = runtime.fields.get(name)
            if definition is None:
                continue
            field_type = definition.type
            non_null = isinstance(field_type, GraphQLNonNull)
            inner = field_type.of_type if non_null else field_type
            if self.is_denied(sub_fields):
                kind = _DENIED
            elif isinstance(inner, GraphQLScalarType):
                kind = _LEAF
            elif isinstance(inner, GraphQLEnumType):
                kind = _ENUM
            elif isinstance(inner, GraphQLObjectType):
                kind = _OBJECT  # one object of a known type: completed here, without `complete`
            else:
                kind = _COMPOSITE
            entries.append((key, kind, field_type, inner, sub_fields, name, non_null))
        self.cache[cache_key] = entries
        return entries

    def complete_object(
        self,
        gql_type: GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType,
        value: dict[str, Any],
        fields: list[FieldSelection],
        path: Path,
    ) -> Any:
        schema = self.shaper.schema
        runtime: GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType = gql_type
        if not isinstance(gql_type, GraphQLObjectType):
            typename = value.get("__typename")
            if isinstance(typename, str):
                found = schema.type_map.get(typename)
                if typename in self.shaper.possible(gql_type.name) and isinstance(found, GraphQLObjectType):
                    runtime = found
                elif not isinstance(found, (GraphQLInterfaceType, GraphQLUnionType)):
                    # an object type clients cannot see (@inaccessible) or that does not fit here;
                    # an interface name (from an @interfaceObject) just leaves the type unknown
                    return self.invalid(
                        path, f'Abstract type "{gql_type.name}" cannot be resolved to type "{typename}".'
                    )
        return self.complete_fields(runtime, value, self.entries(runtime, fields), path)

    def complete_fields(
        self,
        runtime: GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType,
        value: dict[str, Any],
        entries: list[tuple[Any, ...]],
        path: Path,
    ) -> Any:
        result: dict[str, Any] = {}
        for key, kind, field_type, inner, sub_fields, name, non_null in entries:
            if kind == _TYPENAME:
                if isinstance(runtime, GraphQLObjectType):
                    result[key] = runtime.name
                else:
                    result[key] = value.get("__typename") or runtime.name
                continue
            if kind == _DENIED:  # refused to this caller: null, and its error is already there
                if non_null:
                    return None
                result[key] = None
                continue
            field_value = value.get(key)
            if kind == _LEAF:
                if field_value is None and non_null:
                    self.null_error((path, key), runtime.name, name)
                    return None  # this object is null now; a non-null wrapper above bubbles further
                result[key] = field_value
                continue
            if kind == _OBJECT and type(field_value) is dict:
                completed = self.complete_object(inner, field_value, sub_fields, (path, key))
                if completed is None and non_null:
                    self.null_error((path, key), runtime.name, name)
                    return None
                result[key] = completed
                continue
            completed = self.complete(field_type, field_value, sub_fields, (path, key), runtime.name, name)
            if completed is _BUBBLE:
                return None
            result[key] = completed
        return result
