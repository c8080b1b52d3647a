"""Fetch groups: the subgraph requests a plan is being built from, and what they depend on.

A group is one request to one subgraph: a root fetch, or an entity fetch at a response path
whose representations are built from the fields its inputs name. Entity fields needed at the
same path from the same subgraph share a group when that creates no dependency cycle and their
inputs do not clash (two `@requires` asking for one field with different arguments cannot share
one representation).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .operation import Selection
from .plan import ContextVariable, InputField, InputFragment, InputSelection
from .selection import SelSet


@dataclass(slots=True, eq=False)
class InputTree:
    """A representation's shape: field name -> (key to read it from, sub-tree)."""

    fields: dict[str, tuple[str, InputTree | None]] = field(default_factory=dict)
    fragments: dict[str, InputTree] = field(default_factory=dict)

    def merge(self, other: InputTree, dry_run: bool = False) -> bool:
        """Add `other` into this tree; False (and, on a dry run, no change) on a clash."""
        for name, (key, sub) in other.fields.items():
            existing = self.fields.get(name)
            if existing is None:
                if not dry_run:
                    self.fields[name] = (key, sub)
                continue
            if existing[0] != key:
                return False
            if sub is not None:
                if existing[1] is None:
                    if not dry_run:
                        self.fields[name] = (key, sub)
                elif not existing[1].merge(sub, dry_run):
                    return False
        for condition, sub in other.fragments.items():
            existing_fragment = self.fragments.get(condition)
            if existing_fragment is None:
                if not dry_run:
                    self.fragments[condition] = sub
            elif not existing_fragment.merge(sub, dry_run):
                return False
        return True

    def freeze(self) -> tuple[InputSelection, ...]:
        result: list[InputSelection] = []
        for name, (key, sub) in self.fields.items():
            result.append(InputField(name, key, sub.freeze() if sub is not None else None))
        for condition, sub in self.fragments.items():
            result.append(InputFragment(condition, sub.freeze()))
        return tuple(result)


@dataclass(slots=True, eq=False)
class EntityInputBuilder:
    typename: str  # __typename sent in representations
    tree: InputTree
    key_fields: list[str]


@dataclass(slots=True, eq=False)
class Group:
    id: int
    subgraph: str
    kind: str  # "root" or "entity"
    operation: str  # "query" or "mutation"
    path: tuple[str, ...]
    selset: SelSet = field(default_factory=SelSet)
    inputs: dict[str, EntityInputBuilder] = field(default_factory=dict)  # by type condition
    deps: set[Group] = field(default_factory=set)
    entry: tuple[Selection, ...] | None = None  # key fields its representations bring
    contexts: list[ContextVariable] = field(default_factory=list)  # @fromContext variables it sends


def reaches(start: Group, target: Group) -> bool:
    """Does `start` wait, directly or not, for `target`?"""
    seen: set[int] = set()
    stack = [start]
    while stack:
        current = stack.pop()
        if current is target:
            return True
        if current.id in seen:
            continue
        seen.add(current.id)
        stack.extend(current.deps)
    return False


class Groups:
    def __init__(self) -> None:
        self.all: list[Group] = []
        self.roots: dict[str, Group] = {}  # query root fetch per subgraph

    def new(self, graph: str, kind: str, operation: str, path: tuple[str, ...]) -> Group:
        group = Group(id=len(self.all), subgraph=graph, kind=kind, operation=operation, path=path)
        self.all.append(group)
        return group

    def root(self, graph: str) -> Group:
        group = self.roots.get(graph)
        if group is None:
            group = self.roots[graph] = self.new(graph, "root", "query", ())
        return group

    def has_entity(self, graph: str, path: tuple[str, ...]) -> bool:
        return any(g.kind == "entity" and g.subgraph == graph and g.path == path for g in self.all)

    def entity(
        self,
        graph: str,
        path: tuple[str, ...],
        type_condition: str,
        entity_input: EntityInputBuilder,
        deps: set[Group],
    ) -> Group:
        """An entity fetch at this path for these inputs: an existing one if it can take them."""
        for candidate in self.all:
            if candidate.kind != "entity" or candidate.subgraph != graph or candidate.path != path:
                continue
            if candidate in deps or any(reaches(dep, candidate) for dep in deps):
                continue  # it would wait for itself
            existing = candidate.inputs.get(type_condition)
            if existing is not None:
                if existing.typename != entity_input.typename or not existing.tree.merge(entity_input.tree, True):
                    continue
                existing.tree.merge(entity_input.tree)
                for name in entity_input.key_fields:
                    if name not in existing.key_fields:
                        existing.key_fields.append(name)
            else:
                candidate.inputs[type_condition] = entity_input
            candidate.deps |= deps
            return candidate
        group = self.new(graph, "entity", "query", path)
        group.inputs[type_condition] = entity_input
        group.deps |= deps
        return group

    def ordered(self) -> list[Group]:
        """Groups with every group after the groups it depends on."""
        ordered: list[Group] = []
        done: set[int] = set()
        remaining = list(self.all)
        while remaining:
            ready = [g for g in remaining if all(d.id in done or d is g for d in g.deps)]
            if not ready:
                raise RuntimeError("fetch dependencies form a cycle")
            for group in ready:
                ordered.append(group)
                done.add(group.id)
            remaining = [g for g in remaining if g.id not in done]
        return ordered


def direct_deps(group: Group) -> set[Group]:
    """Dependencies without those implied by others (a transitive reduction)."""
    deps = {d for d in group.deps if d is not group}
    return {d for d in deps if not any(other is not d and reaches(other, d) for other in deps)}
