"""Merging directive applications that the supergraph keeps (@tag, @inaccessible, @deprecated, auth, cost, ...).

Repeatable directives keep every distinct application; non-repeatable ones keep the single application all
subgraphs agree on, or combine arguments with the directive's composition strategy (max weight, scope conjunction,
...), or fall back to the most common application.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from graphql.language import BooleanValueNode, IntValueNode, ListValueNode, StringValueNode, ValueNode

from .model import Directive
from .sdl import make_value, value_key
from .specs import BUILTIN_ARGUMENT_DEFAULTS, FEDERATION_ARGUMENT_DEFAULTS, REPEATABLE_MERGED_DIRECTIVES


def _key(d: Directive) -> str:
    """Compares applications with defaults filled in: relying on a default equals passing it."""
    defaults = FEDERATION_ARGUMENT_DEFAULTS.get(d.name, {}) | BUILTIN_ARGUMENT_DEFAULTS.get(d.name, {})
    args = {k: value_key(v) for k, v in d.args.items()}
    for k, v in defaults.items():
        args.setdefault(k, v)
    return json.dumps(sorted(args.items()))


def _py(value: ValueNode | None) -> object:
    if value is None:
        return None
    if isinstance(value, ListValueNode):
        return [_py(v) for v in value.values]
    if isinstance(value, IntValueNode):
        return int(value.value)
    if isinstance(value, BooleanValueNode):
        return value.value
    if isinstance(value, StringValueNode):
        return value.value
    return getattr(value, "value", None)


def _dnf_conjunction(values: list[list[list[str]]]) -> list[list[str]]:
    """AND of requirements each written as OR-of-ANDs (requiresScopes/policy), kept minimal."""
    normalised: list[list[list[str]]] = []
    seen: set[str] = set()
    for value in values:
        value = [sorted(inner) for inner in (value or [[]])]
        value.sort(key=json.dumps)
        key = json.dumps(value)
        if key not in seen:
            seen.add(key)
            normalised.append(value)
    result = normalised[0]
    for current in normalised[1:]:
        combined: list[list[str]] = []
        keys: set[str] = set()
        for left in result:
            for right in current:
                candidate = sorted([*left, *[e for e in right if e not in left]])
                key = json.dumps(candidate)
                if key not in keys:
                    keys.add(key)
                    combined.append(candidate)
        combined.sort(key=len)
        minimal: list[list[str]] = []
        for candidate in combined:
            if not any(set(r) <= set(candidate) for r in minimal):
                minimal.append(candidate)
        result = minimal
    return result


def _union(values: list[list[object]]) -> list[object]:
    out: list[object] = []
    for value in values:
        for v in value:
            if v not in out:
                out.append(v)
    return out


# Argument composition strategies, per directive and argument.
_STRATEGIES: dict[str, dict[str, Callable[[list[object]], object]]] = {
    "cost": {"weight": max},
    "listSize": {
        "assumedSize": lambda vs: max((v for v in vs if v is not None), default=None),  # type: ignore[type-var]
        "slicingArguments": lambda vs: _union([v for v in vs if v is not None]) or None,  # type: ignore[misc]
        "sizedFields": lambda vs: _union([v for v in vs if v is not None]) or None,  # type: ignore[misc]
        "requireOneSlicingArgument": lambda vs: (
            all(v for v in vs if v is not None) if any(v is not None for v in vs) else None
        ),
    },
    "requiresScopes": {"scopes": _dnf_conjunction},  # type: ignore[dict-item]
    "policy": {"policies": _dnf_conjunction},  # type: ignore[dict-item]
}
_ARG_ORDER = {
    "cost": ("weight",),
    "listSize": ("assumedSize", "slicingArguments", "sizedFields", "requireOneSlicingArgument"),
    "requiresScopes": ("scopes",),
    "policy": ("policies",),
}


def merge_applications(name: str, per_source: list[list[Directive]], repeatable: bool | None = None) -> list[Directive]:
    """The applications of directive `name` the supergraph element gets, from each subgraph's applications."""
    per_source = [ds for ds in per_source if ds]
    if not per_source:
        return []
    if repeatable is None:
        repeatable = name in REPEATABLE_MERGED_DIRECTIVES
    if repeatable:
        out: list[Directive] = []
        seen: set[str] = set()
        for ds in per_source:
            for d in ds:
                k = _key(d)
                if k not in seen:
                    seen.add(k)
                    out.append(Directive(name, dict(d.args)))
        return out
    distinct: list[Directive] = []
    counts: list[int] = []
    for ds in per_source:
        d = ds[0]
        for i, existing in enumerate(distinct):
            if _key(existing) == _key(d):
                counts[i] += 1
                break
        else:
            distinct.append(d)
            counts.append(1)
    if len(distinct) == 1:
        return [Directive(name, dict(distinct[0].args))]
    strategies = _STRATEGIES.get(name)
    if strategies:
        defaults = FEDERATION_ARGUMENT_DEFAULTS.get(name, {})
        args: dict[str, ValueNode] = {}
        for arg in _ARG_ORDER[name]:
            values = []
            for d in distinct:
                v = d.args.get(arg)
                values.append(_py(v) if v is not None else (json.loads(defaults[arg]) if arg in defaults else None))
            merged = strategies[arg](values)
            if merged is not None:
                args[arg] = make_value(merged)
        return [Directive(name, args)]
    best = max(range(len(distinct)), key=lambda i: (counts[i], -i))
    return [Directive(name, dict(distinct[best].args))]
