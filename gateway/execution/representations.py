"""Finding the objects an entity fetch is for, and building their representations."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from ..planning.plan import EntityInput, InputField, InputSelection

# Paths to objects are linked pairs (parent, key); `path_list` turns one into a list when an
# error needs it, which is rare, so walking the tree allocates little.
Path = tuple[Any, Any] | None


def path_list(path: Path) -> list[str | int]:
    keys: list[str | int] = []
    while path is not None:
        path, key = path
        keys.append(key)
    keys.reverse()
    return keys


def objects_at(data: Any, merge_path: tuple[str, ...]) -> list[tuple[dict[str, Any], Path]]:
    """Every object at a merge path (`@` walks list items), with its path in the response."""
    found: list[tuple[dict[str, Any], Path]] = []
    _walk(data, merge_path, 0, None, found)
    return found


def _walk(value: Any, merge_path: tuple[str, ...], depth: int, path: Path, found: list[Any]) -> None:
    if value is None:
        return
    if isinstance(value, list):
        # "@" marks the list levels; a list the path did not mark is walked the same way
        next_depth = depth + 1 if depth < len(merge_path) and merge_path[depth] == "@" else depth
        for index, item in enumerate(value):
            _walk(item, merge_path, next_depth, (path, index), found)
        return
    if not isinstance(value, dict):
        return
    if depth == len(merge_path):
        found.append((value, path))
        return
    segment = merge_path[depth]
    if segment == "@":
        return  # expected a list here
    _walk(value.get(segment), merge_path, depth + 1, (path, segment), found)


class Representations:
    """Unique representations of one entity fetch and the objects each one stands for."""

    def __init__(self) -> None:
        self.values: list[dict[str, Any]] = []
        self.targets: list[list[tuple[dict[str, Any], Path]]] = []
        self._index: dict[Any, int] = {}

    def add(self, representation: dict[str, Any], target: dict[str, Any], path: Path) -> None:
        key: Any
        try:  # flat representations (the usual keys) dedupe by their values, cheaply
            key = tuple(representation.items())
            hash(key)
        except TypeError:
            key = orjson.dumps(representation, option=orjson.OPT_SORT_KEYS)
        index = self._index.get(key)
        if index is None:
            index = self._index[key] = len(self.values)
            self.values.append(representation)
            self.targets.append([])
        self.targets[index].append((target, path))


def build_representations(
    data: Any,
    merge_path: tuple[str, ...],
    inputs: tuple[EntityInput, ...],
    matches: Callable[[str | None, str], bool],
) -> Representations:
    reps = Representations()
    only = inputs[0] if len(inputs) == 1 else None
    key_keys = {id(i): [_key_of(i.selections, name) for name in i.key_fields] for i in inputs}
    for obj, path in objects_at(data, merge_path):
        typename = obj.get("__typename")
        entity_input = None
        for candidate in inputs:
            if matches(typename, candidate.type_condition):
                entity_input = candidate
                break
        if entity_input is None:
            if typename is not None or only is None:
                continue
            entity_input = only  # objects at non-abstract positions carry no __typename
        if any(obj.get(key) is None for key in key_keys[id(entity_input)]):
            continue  # no key, no entity
        representation: dict[str, Any] = {"__typename": entity_input.typename}
        _fill(representation, obj, entity_input.selections, matches)
        reps.add(representation, obj, path)
    return reps


def _key_of(selections: tuple[InputSelection, ...], name: str) -> str:
    for sel in selections:
        if isinstance(sel, InputField) and sel.name == name:
            return sel.key
    return name


def _fill(
    result: dict[str, Any],
    obj: dict[str, Any],
    selections: tuple[InputSelection, ...],
    matches: Callable[[str | None, str], bool],
) -> None:
    for sel in selections:
        if isinstance(sel, InputField):
            value = obj.get(sel.key)
            if sel.selections is not None and value is not None:
                value = _nested(value, sel.selections, matches)
            result[sel.name] = value
        elif matches(obj.get("__typename"), sel.type_condition):
            _fill(result, obj, sel.selections, matches)


def _nested(value: Any, selections: tuple[InputSelection, ...], matches: Callable[[str | None, str], bool]) -> Any:
    if isinstance(value, list):
        return [_nested(item, selections, matches) if item is not None else None for item in value]
    if isinstance(value, dict):
        result: dict[str, Any] = {}
        _fill(result, value, selections, matches)
        return result
    return value
