"""Merging subgraph responses into the gateway's response tree.

Fetches write into one tree of plain dicts and lists. Objects reached by several fetches are
merged key by key (lists item by item: a @shareable field returns the same list everywhere).
Aliases a fetch used to dodge a conflict are renamed back to the tree's keys on the way in.
"""

from __future__ import annotations

from typing import Any

from ..planning.selection import RenameTree

_MISSING = object()


class Merger:
    def __init__(self, abstract_types: frozenset[str]) -> None:
        # __typename values that name an interface (answers from an @interfaceObject subgraph)
        # never replace a concrete type already known.
        self.abstract_types = abstract_types

    def merge(self, target: dict[str, Any], source: dict[str, Any], renames: RenameTree | None = None) -> None:
        for name, value in source.items():
            sub: RenameTree | None = None
            if renames is not None:
                found = renames.get(name)
                if found is not None:
                    name, sub = found
            if name == "__typename":
                if value in self.abstract_types and "__typename" in target:
                    continue
                target[name] = value
                continue
            existing = target.get(name, _MISSING)
            if existing is _MISSING or existing is None:
                target[name] = self.renamed(value, sub) if sub else value
            elif value is None:
                continue  # keep what another fetch found
            elif isinstance(existing, dict) and isinstance(value, dict):
                self.merge(existing, value, sub)
            elif isinstance(existing, list) and isinstance(value, list):
                self.merge_lists(existing, value, sub)
            else:
                target[name] = value

    def merge_lists(self, target: list[Any], source: list[Any], renames: RenameTree | None) -> None:
        for index, value in enumerate(source):
            if index >= len(target):
                target.append(self.renamed(value, renames) if renames else value)
                continue
            existing = target[index]
            if isinstance(existing, dict) and isinstance(value, dict):
                self.merge(existing, value, renames)
            elif isinstance(existing, list) and isinstance(value, list):
                self.merge_lists(existing, value, renames)
            elif existing is None:
                target[index] = self.renamed(value, renames) if renames else value

    def renamed(self, value: Any, renames: RenameTree | None) -> Any:
        if renames is None or value is None:
            return value
        if isinstance(value, list):
            return [self.renamed(item, renames) for item in value]
        if isinstance(value, dict):
            result: dict[str, Any] = {}
            self.merge(result, value, renames)
            return result
        return value


def rename_path(path: list[Any], renames: RenameTree | None) -> list[Any]:
    """A subgraph error path with the fetch's aliases turned back into the tree's keys."""
    result: list[Any] = []
    current = renames
    for segment in path:
        if isinstance(segment, str) and current is not None and segment in current:
            key, current = current[segment]
            result.append(key)
        else:
            result.append(segment)
    return result
