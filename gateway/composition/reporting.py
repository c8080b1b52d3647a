"""Wording helpers for errors that compare one element across subgraphs (as Apollo words them)."""

from __future__ import annotations

from collections.abc import Callable, Iterable


def join_strings(parts: list[str], sep: str = ", ", first_sep: str | None = None, last_sep: str = " and ") -> str:
    if not parts:
        return ""
    if len(parts) == 1:
        return parts[0]
    if len(parts) == 2:
        return parts[0] + (first_sep or last_sep) + parts[1]
    return parts[0] + (first_sep or sep) + sep.join(parts[1:-1]) + last_sep + parts[-1]


def subgraph_names(names: Iterable[str]) -> str:
    quoted = [f'"{n}"' for n in names]
    if len(quoted) == 1:
        return f"subgraph {quoted[0]}"
    return "subgraphs " + join_strings(quoted)


def distribution(
    values: Iterable[tuple[str, str]],
    supergraph_value: str | None,
    first: Callable[[str, str | None], str] = lambda v, s: f"{v} in {s}",
    other: Callable[[str, str], str] = lambda v, s: f"{v} in {s}",
) -> list[str]:
    """Groups (subgraph, value) pairs by value, the supergraph's value first."""
    groups: dict[str, list[str]] = {}
    for subgraph, value in values:
        groups.setdefault(value, []).append(subgraph)
    key = supergraph_value if supergraph_value is not None else ""
    like = groups.get(key)
    out = [first(key, subgraph_names(like) if like else None)]
    out += [other(v, subgraph_names(names)) for v, names in groups.items() if v != key]
    return out


def mismatch(values: Iterable[tuple[str, str]], supergraph_value: str | None) -> str:
    """`X in subgraph "a" but Y in subgraph "b"` for an incompatible element."""
    values = list(values)
    if supergraph_value is None and values:
        supergraph_value = values[0][1]
    return join_strings(distribution(values, supergraph_value), ", ", " but ", " and ")
