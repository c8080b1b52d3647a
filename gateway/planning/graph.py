"""What a subgraph can resolve where: the questions the planner and its estimator share.

A position is a subgraph and a type there. A field is *local* at a position when the subgraph
resolves it on that type (not external unless provided, not overridden, no @requires). When it
is not, the field needs a *jump*: an entity fetch to another subgraph through a key at this
object, or at an ancestor entity within the same fetch (re-selecting the path down to here), or
for queries a second root fetch.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..supergraph.model import FieldJoin, Key, Supergraph, unwrap_type_name
from .fieldset import parse_field_set
from .operation import FieldSelection, FragmentSelection, Selection

Step = tuple[str, FieldSelection]  # (type at a position, field taken from it)


def _top_level_names(field_set: str) -> set[str]:
    return {sel.name for sel in parse_field_set(field_set) if isinstance(sel, FieldSelection)}


@dataclass(frozen=True, slots=True)
class Jump:
    kind: str  # "entity" (at this object), "parent" (at an ancestor entity), "root" (new root fetch)
    target: str  # subgraph
    entity_type: str  # type named in `... on X` in the target (an interface for @interfaceObject)
    anchor: int  # index in the chain of the ancestor position; -1 for this position
    keys: tuple[Key, ...] = ()

    @property
    def signature(self) -> tuple[str, str, str, int]:
        return (self.kind, self.target, self.entity_type, self.anchor)


class Graph:
    def __init__(self, supergraph: Supergraph, labels: frozenset[str] = frozenset()) -> None:
        self.sg = supergraph
        self.labels = labels
        self._collect_cache: dict[tuple[str, int], dict[str, list[FieldSelection]]] = {}
        self._keep: list[object] = []

    # ---- fields --------------------------------------------------------------------------------

    def field_join(self, type_name: str, field_name: str, graph: str) -> FieldJoin | None:
        """The subgraph's join for a field if it may resolve it at all (overrides applied)."""
        joins = self.sg.field_graphs(type_name, field_name)
        join = joins.get(graph)
        if join is None or join.used_overridden:
            return None
        if join.override_label is not None:
            # progressive override: the taking subgraph (override set) answers while the label
            # is on, the giving one (label only) while it is off
            taking = join.override is not None
            if (join.override_label in self.labels) != taking:
                return None
        for other in joins.values():
            if other.override == graph and other.override_label is not None and other.override_label in self.labels:
                return None  # taken over by another subgraph for this request
        return join

    def resolvable(self, graph: str, type_name: str, field_name: str, provided: tuple[Selection, ...] | None) -> bool:
        """Resolvable in the subgraph at this type, @requires aside."""
        if field_name == "__typename":
            return True
        if self.sg.type_in(type_name, graph) is None:
            return False
        join = self.field_join(type_name, field_name, graph)
        if join is None:
            return False
        if join.external:
            return provided is not None and self.is_provided(provided, type_name, field_name)
        return True

    def local(self, graph: str, type_name: str, field_name: str, provided: tuple[Selection, ...] | None) -> bool:
        if not self.resolvable(graph, type_name, field_name, provided):
            return False
        join = self.field_join(type_name, field_name, graph)
        return join is None or join.requires is None

    def requires(self, graph: str, type_name: str, field_name: str) -> str | None:
        join = self.field_join(type_name, field_name, graph)
        return join.requires if join else None

    def provides(self, graph: str, type_name: str, field_name: str) -> str | None:
        join = self.field_join(type_name, field_name, graph)
        return join.provides if join else None

    def field_type(self, graph: str, type_name: str, field_name: str) -> str:
        return self.sg.field_type_in(type_name, field_name, graph)

    def child_type(self, graph: str, type_name: str, field_name: str) -> str:
        return unwrap_type_name(self.field_type(graph, type_name, field_name))

    # ---- abstract types ------------------------------------------------------------------------

    def applies(self, condition: str | None, type_name: str) -> bool:
        if condition is None or condition == type_name:
            return True
        if self.sg.is_abstract(condition):
            return type_name in self.sg.possible_types(condition)
        return False

    def collect(self, type_name: str, selections: tuple[Selection, ...]) -> dict[str, list[FieldSelection]]:
        """Fields that apply to an object of this type, grouped by response key, in order."""
        cache_key = (type_name, id(selections))
        found = self._collect_cache.get(cache_key)
        if found is not None:
            return found
        grouped: dict[str, list[FieldSelection]] = {}
        self._collect_into(type_name, selections, grouped)
        self._collect_cache[cache_key] = grouped
        self._keep.append(selections)
        return grouped

    def _collect_into(
        self, type_name: str, selections: Iterable[Selection], grouped: dict[str, list[FieldSelection]]
    ) -> None:
        for sel in selections:
            if isinstance(sel, FieldSelection):
                grouped.setdefault(sel.key, []).append(sel)
            elif self.applies(sel.type_condition, type_name):
                self._collect_into(type_name, sel.selections, grouped)

    def split_direct(
        self, type_name: str, selections: Iterable[Selection]
    ) -> tuple[dict[str, list[FieldSelection]], list[FragmentSelection]]:
        """At an abstract type: fields that apply whatever the object's type, and other fragments."""
        direct: dict[str, list[FieldSelection]] = {}
        others: list[FragmentSelection] = []

        def visit(items: Iterable[Selection]) -> None:
            for sel in items:
                if isinstance(sel, FieldSelection):
                    direct.setdefault(sel.key, []).append(sel)
                elif sel.type_condition is None or sel.type_condition == type_name:
                    visit(sel.selections)
                else:
                    others.append(sel)

        visit(selections)
        return direct, others

    def runtime_types(self, graph: str, type_name: str) -> list[str]:
        """Object types a subgraph may return at a position of this type."""
        return self.sg.possible_types_in(type_name, graph)

    # ---- @provides -----------------------------------------------------------------------------

    def is_provided(self, provided: tuple[Selection, ...], type_name: str, field_name: str) -> bool:
        for sel in provided:
            if isinstance(sel, FieldSelection):
                if sel.name == field_name:
                    return True
            elif self.applies(sel.type_condition, type_name) and self.is_provided(
                sel.selections, type_name, field_name
            ):
                return True
        return False

    def provided_child(
        self, provided: tuple[Selection, ...] | None, type_name: str, field_name: str
    ) -> tuple[Selection, ...] | None:
        if not provided:
            return None
        found: list[Selection] = []

        def visit(items: Iterable[Selection]) -> None:
            for sel in items:
                if isinstance(sel, FieldSelection):
                    if sel.name == field_name and sel.selections:
                        found.extend(sel.selections)
                elif self.applies(sel.type_condition, type_name):
                    visit(sel.selections)

        visit(provided)
        if not found:
            return None
        result = tuple(found)
        self._keep.append(result)
        return result

    # ---- jumps ---------------------------------------------------------------------------------

    def entity_jumps(self, graph: str, type_name: str, field_name: str, pseudo: bool, unit: str) -> list[Jump]:
        """Entity fetches at this object that can resolve the field (or unit) elsewhere.

        `pseudo`: the position is an @interfaceObject (type_name is then the interface).
        `unit`: "field", or "typename"/"fragment" for parts needing the concrete type.
        """
        jumps: list[Jump] = []
        sg = self.sg
        if pseudo:
            for target, join in sg.types.get(type_name, {}).items():
                keys = self.keys_without(join.resolvable_keys, field_name)
                if not keys:
                    continue
                if unit != "field":
                    if not join.is_interface_object:
                        jumps.append(Jump("entity", target, type_name, -1, keys))
                    continue
                if target == graph and not self.requires(target, type_name, field_name):
                    continue
                if self._resolvable_on_interface(target, type_name, field_name, join.is_interface_object):
                    jumps.append(Jump("entity", target, type_name, -1, keys))
            return jumps
        for target, join in sg.types.get(type_name, {}).items():
            keys = self.keys_without(join.resolvable_keys, field_name)
            if not keys:
                continue
            if target == graph and not self.requires(target, type_name, field_name):
                continue
            if self.resolvable(target, type_name, field_name, None):
                jumps.append(Jump("entity", target, type_name, -1, keys))
        # Fields an @interfaceObject adds to every implementation of its interface.
        named = sg.named_type(type_name)
        for interface in getattr(named, "interfaces", ()):
            for target, join in sg.types.get(interface.name, {}).items():
                if not join.is_interface_object:
                    continue
                keys = self.keys_without(join.resolvable_keys, field_name)
                if not keys or (target == graph and not self.requires(target, interface.name, field_name)):
                    continue
                if self.resolvable(target, interface.name, field_name, None):
                    jumps.append(Jump("entity", target, interface.name, -1, keys))
        return jumps

    @staticmethod
    def keys_without(keys: list[Key], field_name: str) -> tuple[Key, ...]:
        """Keys that do not need the very field being resolved (that would be circular)."""
        return tuple(key for key in keys if field_name not in _top_level_names(key.fields))

    def _resolvable_on_interface(self, graph: str, interface: str, field_name: str, is_object: bool) -> bool:
        if is_object:
            return self.resolvable(graph, interface, field_name, None)
        # A real interface: the planner splits per implementation there when needed.
        return field_name == "__typename" or self.field_join(interface, field_name, graph) is not None

    def replay_ok(self, graph: str, steps: list[Step]) -> bool:
        """Can the subgraph follow these (type, field) steps from the first type down?"""
        declared = steps[0][0]
        if self.sg.type_in(declared, graph) is None:
            return False
        for type_name, field in steps:
            if type_name != declared:
                if not self.sg.is_abstract(declared) or type_name not in self.runtime_types(graph, declared):
                    return False
            if field.name == "__typename":
                return True
            if not self.local(graph, type_name, field.name, None):
                return False
            declared = self.child_type(graph, type_name, field.name)
        return True

    def parent_jumps(
        self,
        graph: str,
        chain: tuple[Step, ...],
        current: Step,
        root_group: bool,
        operation_kind: str,
    ) -> list[Jump]:
        """Jumps at an ancestor position of the same fetch that re-select the path down to here."""
        jumps: list[Jump] = []
        sg = self.sg
        for index in range(len(chain) - 1, -1, -1):
            anchor_type = chain[index][0]
            steps = list(chain[index:]) + [current]
            if index == 0 and root_group:
                if operation_kind != "query":
                    continue
                for target in sg.subgraphs:
                    if target != graph and self.replay_ok(target, steps):
                        jumps.append(Jump("root", target, anchor_type, 0))
                continue
            if not sg.is_object(anchor_type):
                continue
            for target, join in sg.types.get(anchor_type, {}).items():
                keys = tuple(join.resolvable_keys)
                if target == graph or not keys:
                    continue
                if self.replay_ok(target, steps):
                    jumps.append(Jump("parent", target, anchor_type, index, keys))
        return jumps

    def alternative_graphs(
        self, graph: str, chain: tuple[Step, ...], current: Step, root_group: bool, operation_kind: str
    ) -> set[str]:
        """Every subgraph that could resolve the current field at this position, this one included."""
        found = {graph}
        type_name, field = current
        if not chain and root_group:
            # a root field: any subgraph with the same root field
            found.update(g for g in self.sg.subgraphs if self.local(g, type_name, field.name, None))
        elif self.sg.is_object(type_name):
            for target, join in self.sg.types.get(type_name, {}).items():
                if join.resolvable_keys and self.local(target, type_name, field.name, None):
                    found.add(target)
        for jump in self.parent_jumps(graph, chain, current, root_group, operation_kind):
            found.add(jump.target)
        return found
