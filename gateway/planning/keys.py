"""Response keys for the fields the planner adds (entity keys, @requires inputs, __typename).

Several subgraph responses are merged into one tree, so a field the planner adds must not land
on a key where the client asked for something else (`id: name`), and two @requires inputs with
different arguments (`price(currency: "USD")`, `price(currency: "EUR")`) must not share one.
Keys are allocated per response path (list levels ignored): a field reuses the key that already
holds exactly the same field and arguments, takes its own name when free, and otherwise gets
a fresh `_name<N>` key.
"""

from __future__ import annotations

from .operation import FieldSelection, FragmentSelection, Selection


def child_path(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


class KeyAllocator:
    def __init__(self) -> None:
        self._table: dict[str, dict[str, set[tuple[str, str]]]] = {}
        self._keyed: dict[tuple[str, int], tuple[Selection, ...]] = {}
        self._keep: list[tuple[Selection, ...]] = []  # the cache is keyed by id(): keep them alive

    def register(self, path: str, key: str, name: str, args_key: str) -> None:
        self._table.setdefault(path, {}).setdefault(key, set()).add((name, args_key))

    def register_operation(self, selections: tuple[Selection, ...], path: str = "") -> None:
        for sel in selections:
            if isinstance(sel, FieldSelection):
                self.register(path, sel.key, sel.name, sel.args_key)
                if sel.selections:
                    self.register_operation(sel.selections, child_path(path, sel.key))
            else:
                self.register_operation(sel.selections, path)

    def allocate(self, path: str, name: str, args_key: str) -> str:
        entries = self._table.setdefault(path, {})
        wanted = {(name, args_key)}
        for key, defs in entries.items():
            if defs == wanted:
                return key
        if name not in entries:
            entries[name] = wanted
            return name
        index = 1
        while f"_{name}{index}" in entries:
            index += 1
        key = f"_{name}{index}"
        entries[key] = wanted
        return key

    def keyed(self, path: str, selections: tuple[Selection, ...]) -> tuple[Selection, ...]:
        """The same selections with planner-allocated keys. Cached, so identity is stable."""
        cache_key = (path, id(selections))
        found = self._keyed.get(cache_key)
        if found is not None:
            return found
        result: list[Selection] = []
        for sel in selections:
            if isinstance(sel, FieldSelection):
                key = "__typename" if sel.name == "__typename" else self.allocate(path, sel.name, sel.args_key)
                sub = self.keyed(child_path(path, key), sel.selections) if sel.selections else sel.selections
                result.append(FieldSelection(key, sel.name, sel.arguments, sub, sel.args_key))
            else:
                result.append(FragmentSelection(sel.type_condition, self.keyed(path, sel.selections)))
        keyed = tuple(result)
        self._keyed[cache_key] = keyed
        self._keep.append(selections)
        return keyed
