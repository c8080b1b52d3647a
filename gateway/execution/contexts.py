"""@fromContext values at execution: read from each object's ancestors, objects grouped by value.

An entity fetch whose plan part has `ContextVariable`s sends one request per distinct combination
of values (the variables are per request, so objects needing other values cannot share one); the
requests run concurrently. Each value is read on the nearest ancestor that has the context's
reserved response key, which the plan fetched there only on objects that set the context.
"""

from __future__ import annotations

from typing import Any

import orjson

from ..planning.plan import ContextVariable
from .representations import Path, objects_at, path_list


def _at(data: Any, keys: list[str | int]) -> Any:
    for key in keys:
        if isinstance(data, dict) and isinstance(key, str):
            data = data.get(key)
        elif isinstance(data, list) and isinstance(key, int) and key < len(data):
            data = data[key]
        else:
            return None
    return data


def _value(data: Any, keys: list[str | int], variable: ContextVariable) -> Any:
    for level in variable.levels:  # nearest ancestor first
        ancestor = _at(data, keys[: level.prefix])
        if not isinstance(ancestor, dict):
            continue
        for key, rest in level.reads:
            if key in ancestor:
                value = ancestor[key]
                for name in rest:
                    value = value.get(name) if isinstance(value, dict) else None
                return value
    return None  # no ancestor set the context: the argument is null


def group_by_context(
    data: Any, merge_path: tuple[str, ...], variables: tuple[ContextVariable, ...]
) -> list[tuple[dict[str, Any], list[tuple[dict[str, Any], Path]]]]:
    """The objects at the merge path grouped by their context values: (variable values, objects)."""
    groups: dict[bytes, tuple[dict[str, Any], list[tuple[dict[str, Any], Path]]]] = {}
    for obj, path in objects_at(data, merge_path):
        keys = path_list(path)
        values = {variable.variable: _value(data, keys, variable) for variable in variables}
        identity = orjson.dumps(values, option=orjson.OPT_SORT_KEYS)
        groups.setdefault(identity, (values, []))[1].append((obj, path))
    return list(groups.values())
