"""Subgraph selections while a plan is being built, and their printing as GraphQL.

Each field has two names: `key`, where its value lives in the gateway's merged response (the
client's response key, or one the planner allocated for fields it added), and `alias`, the
response key sent to the subgraph. They differ only when the subgraph would reject two fields
sharing a response key (same key, different field or type in overlapping fragments).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from graphql import print_ast
from graphql.language import ArgumentNode

from .operation import variables_in


@dataclass(slots=True, eq=False)
class SelField:
    name: str
    key: str
    arguments: tuple[ArgumentNode, ...] = ()
    args_key: str = ""
    type_sdl: str = ""  # the subgraph's return type, to spot conflicting fields
    selset: SelSet | None = None
    alias: str = ""

    def __post_init__(self) -> None:
        if not self.alias:
            self.alias = self.key


@dataclass(slots=True, eq=False)
class SelSet:
    fields: dict[str, SelField] = field(default_factory=dict)  # by key
    fragments: dict[str, SelSet] = field(default_factory=dict)  # by type condition

    def is_empty(self) -> bool:
        return not self.fields and all(f.is_empty() for f in self.fragments.values())

    def add_field(
        self,
        name: str,
        key: str,
        arguments: tuple[ArgumentNode, ...] = (),
        args_key: str = "",
        type_sdl: str = "",
        composite: bool = False,
    ) -> SelField:
        existing = self.fields.get(key)
        if existing is not None:
            if existing.name == name and existing.args_key == args_key:
                if composite and existing.selset is None:
                    existing.selset = SelSet()
                return existing
            raise ValueError(f"response key {key!r} already holds {existing.name}({existing.args_key})")
        created = SelField(name, key, arguments, args_key, type_sdl, SelSet() if composite else None)
        self.fields[key] = created
        return created

    def fragment(self, type_condition: str) -> SelSet:
        found = self.fragments.get(type_condition)
        if found is None:
            found = self.fragments[type_condition] = SelSet()
        return found

    def has_typename(self) -> bool:
        return "__typename" in self.fields

    def add_typename(self) -> None:
        if "__typename" not in self.fields:
            # __typename first, the way the other gateways print it
            self.fields = {"__typename": SelField("__typename", "__typename"), **self.fields}


# ---- conflicts ------------------------------------------------------------------------------


def _flatten(selsets: list[SelSet]) -> list[SelField]:
    found: list[SelField] = []
    for selset in selsets:
        found.extend(selset.fields.values())
        found.extend(_flatten(list(selset.fragments.values())))
    return found


def _shape(sel: SelField) -> str:
    """What GraphQL compares for fields sharing a response key: list/non-null wrappers always,
    the named type only for leaves (object fields are compared through their sub-selections)."""
    if sel.selset is None:
        return sel.type_sdl
    named = sel.type_sdl.replace("[", "").replace("]", "").replace("!", "")
    return sel.type_sdl.replace(named, "*", 1) if named else sel.type_sdl


def resolve_conflicts(selsets: list[SelSet], counter: list[int]) -> None:
    """Give distinct aliases to fields that share a response key but differ in definition or type.

    `selsets` are selection sets whose fields GraphQL merges (a set and its fragments, or the
    sub-selections of same-named fields), so they are checked together.
    """
    groups: dict[str, list[SelField]] = {}
    for sel in _flatten(selsets):
        groups.setdefault(sel.alias, []).append(sel)
    for alias, members in groups.items():
        variants: dict[tuple[str, str, str], list[SelField]] = {}
        for sel in members:
            variants.setdefault((sel.name, sel.args_key, _shape(sel)), []).append(sel)
        for index, (signature, sels) in enumerate(variants.items()):
            if index > 0:
                counter[0] += 1
                new_alias = f"_{alias}_{counter[0]}" if not alias.startswith("_") else f"{alias}_{counter[0]}"
                for sel in sels:
                    sel.alias = new_alias
            children = [sel.selset for sel in sels if sel.selset is not None]
            if children:
                resolve_conflicts(children, counter)


# ---- printing -------------------------------------------------------------------------------


def _print_field(sel: SelField) -> str:
    text = sel.name if sel.alias == sel.name else f"{sel.alias}: {sel.name}"
    if sel.arguments:
        text += "(" + ", ".join(print_ast(arg) for arg in sel.arguments) + ")"
    if sel.selset is not None:
        text += " " + print_selset(sel.selset)
    return text


def print_selset(selset: SelSet) -> str:
    parts = [_print_field(sel) for sel in selset.fields.values()]
    for condition, fragment in selset.fragments.items():
        if not fragment.is_empty():
            parts.append(f"... on {condition} {print_selset(fragment)}")
    if not parts:
        parts.append("__typename")  # a selection set cannot be empty
    return "{ " + " ".join(parts) + " }"


def collect_variables(selset: SelSet, into: set[str]) -> None:
    for sel in selset.fields.values():
        for arg in sel.arguments:
            variables_in(arg.value, into)
        if sel.selset is not None:
            collect_variables(sel.selset, into)
    for fragment in selset.fragments.values():
        collect_variables(fragment, into)


RenameTree = dict[str, tuple[str, "RenameTree | None"]]


def rename_tree(selset: SelSet) -> RenameTree | None:
    """alias -> (key, subtree) for every aliased field or field with aliased descendants."""
    tree: RenameTree = {}
    for sel in _flatten([selset]):
        sub = rename_tree(sel.selset) if sel.selset is not None else None
        if sel.alias != sel.key or sub:
            previous = tree.get(sel.alias)
            if previous and previous[1] and sub:
                merged = dict(previous[1])
                merged.update(sub)
                sub = merged
            tree[sel.alias] = (sel.key, sub)
    return tree or None
