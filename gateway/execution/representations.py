"""Finding the objects an entity fetch is for, and building their representations."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
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
    """Every object at a merge path (`@` walks list items), with its path in the response.

    Walked level by level, not recursively: a nested query reaches hundreds of objects per fetch,
    and a call per object and level was a tenth of the gateway's time. A list the path did not
    mark with `@` is walked into all the same (a list of lists under one `@`)."""
    level: list[tuple[Any, Path]] = [(data, None)]
    for segment in merge_path:
        following: list[tuple[Any, Path]] = []
        if segment == "@":
            for value, path in level:
                if type(value) is list:
                    following.extend([(item, (path, index)) for index, item in enumerate(value)])
            # a None, or an object where a list was expected, has nothing under it
        else:
            for value, path in _unmarked_lists_walked(level):
                if type(value) is dict:
                    found = value.get(segment)
                    if found is not None:
                        following.append((found, (path, segment)))
        level = following
    return [(value, path) for value, path in _unmarked_lists_walked(level) if type(value) is dict]


def _unmarked_lists_walked(level: list[tuple[Any, Path]]) -> list[tuple[Any, Path]]:
    for value, _ in level:
        if type(value) is list:
            break
    else:
        return level  # the usual case: nothing to walk into
    walked: list[tuple[Any, Path]] = []
    for value, path in level:
        if type(value) is list:
            walked.extend(_unmarked_lists_walked([(item, (path, index)) for index, item in enumerate(value)]))
        else:
            walked.append((value, path))
    return walked


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

    def add_flat(self, compiled: _CompiledInput, obj: dict[str, Any], path: Path) -> None:
        """A flat representation, deduplicated by its values before any dict is built."""
        flat = compiled.flat
        assert flat is not None
        values = tuple([obj.get(key) for _, key in flat])
        for position in compiled.key_positions:
            if values[position] is None:
                return  # no key, no entity
        key: Any = (compiled, values)  # the same values under another input's field names differ
        try:
            index = self._index.get(key)
        except TypeError:  # a list or object value (a JSON scalar): compare by its serialized form
            key = orjson.dumps([compiled.input.typename, compiled.flat, values], option=orjson.OPT_SORT_KEYS)
            index = self._index.get(key)
        if index is None:
            representation = {"__typename": compiled.input.typename}
            for (name, _), value in zip(flat, values):
                representation[name] = value
            index = self._index[key] = len(self.values)
            self.values.append(representation)
            self.targets.append([])
        self.targets[index].append((obj, path))


    def add_by_one_key(
        self,
        compiled: _CompiledInput,
        objects: list[tuple[dict[str, Any], Path]],
        matches: Callable[[str | None, str], bool],
    ) -> None:
        """The most common entity fetch, one input keyed by one field (`id`): each object's key
        value is its representation's identity, so the loop needs no tuple or dict per object."""
        assert compiled.flat is not None
        ((name, key),) = compiled.flat
        typename, condition = compiled.input.typename, compiled.input.type_condition
        index_of: dict[Any, int] = {}
        values, targets = self.values, self.targets
        for obj, path in objects:
            actual = obj.get("__typename")
            if actual is not None and actual != condition and not matches(actual, condition):
                continue
            value = obj.get(key)
            if value is None:
                continue  # no key, no entity
            identity = value
            try:
                index = index_of.get(identity)
            except TypeError:  # a list or object value (a JSON scalar): compare by its serialized form
                identity = orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
                index = index_of.get(identity)
            if index is None:
                index = index_of[identity] = len(values)
                values.append({"__typename": typename, name: value})
                targets.append([])
            targets[index].append((obj, path))


def build_representations(
    data: Any,
    merge_path: tuple[str, ...],
    inputs: tuple[EntityInput, ...],
    matches: Callable[[str | None, str], bool],
    objects: list[tuple[dict[str, Any], Path]] | None = None,
) -> Representations:
    """Representations of the objects at the merge path (or of `objects`, some of them)."""
    if objects is None:
        objects = objects_at(data, merge_path)
    reps = Representations()
    only = inputs[0] if len(inputs) == 1 else None
    compiled = [_compiled(i) for i in inputs]
    if only is not None and compiled[0].flat is not None and len(compiled[0].flat) == 1 and compiled[0].key_positions:
        reps.add_by_one_key(compiled[0], objects, matches)
        return reps
    for obj, path in objects:
        typename = obj.get("__typename")
        found = None
        for candidate in compiled:
            condition = candidate.input.type_condition
            if typename == condition or matches(typename, condition):
                found = candidate
                break
        if found is None:
            if typename is not None or only is None:
                continue
            found = compiled[0]  # objects at non-abstract positions carry no __typename
        if found.flat is not None:
            reps.add_flat(found, obj, path)
            continue
        if any(obj.get(key) is None for key in found.key_keys):
            continue  # no key, no entity
        representation: dict[str, Any] = {"__typename": found.input.typename}
        _fill(representation, obj, found.input.selections, matches)
        reps.add(representation, obj, path)
    return reps


class _CompiledInput:
    """An entity input prepared once per plan: its key's response keys and, for the usual flat
    keys (fields without sub-selections or fragments), the (name, response key) pairs to copy."""

    __slots__ = ("input", "key_keys", "flat", "key_positions")

    def __init__(self, entity_input: EntityInput) -> None:
        self.input = entity_input
        self.key_keys = [_key_of(entity_input.selections, name) for name in entity_input.key_fields]
        selections = entity_input.selections
        if all(isinstance(sel, InputField) and sel.selections is None for sel in selections):
            self.flat: tuple[tuple[str, str], ...] | None = tuple((sel.name, sel.key) for sel in selections)  # type: ignore[union-attr]
            keys = [key for _, key in self.flat]
            self.key_positions = tuple(keys.index(key) for key in self.key_keys if key in keys)
        else:
            self.flat = None
            self.key_positions = ()


@lru_cache(maxsize=4096)
def _compiled(entity_input: EntityInput) -> _CompiledInput:
    return _CompiledInput(entity_input)


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
