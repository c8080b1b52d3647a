"""How many extra fetches resolving a selection from a position would take, roughly.

The planner asks this to choose between subgraphs (a @shareable root field, a field several
subgraphs resolve, which key to use), and takes its list of possible jumps for a field from
here too, so both follow the same rules. Nothing is built: each distinct jump target at a
position costs one fetch, plus what its keys, @requires inputs and the sub-selection there cost.
Infinite means impossible.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..supergraph.model import Key
from .fieldset import parse_field_set
from .graph import Graph, Jump, Step
from .operation import FieldSelection, FragmentSelection, Selection

INF = float("inf")


@dataclass(frozen=True, slots=True)
class Where:
    """A position's context: subgraph, path within the fetch, and what is already at hand."""

    graph: str
    chain: tuple[Step, ...] = ()  # (type, field) steps from the fetch's root position to here
    root_group: bool = False  # the fetch is a root fetch (its first step is a root field)
    provided: tuple[Selection, ...] | None = None  # @provides in effect here
    barrier: int = 0  # jumps at ancestors above this index are not allowed (see planner)
    entry: tuple[Selection, ...] | None = None  # fields the fetch's representations bring to its root

    def memo_key(self) -> tuple:
        return (
            self.graph,
            tuple((t, id(f)) for t, f in self.chain),
            self.root_group,
            id(self.provided) if self.provided else 0,
            self.barrier,
            id(self.entry) if self.entry else 0,
        )

    def down(self, type_name: str, field: FieldSelection, provided: tuple[Selection, ...] | None) -> Where:
        return replace(self, chain=self.chain + ((type_name, field),), provided=provided)


def merged_children(fields: list[FieldSelection], keep: list[object]) -> tuple[Selection, ...] | None:
    if len(fields) == 1:
        return fields[0].selections
    merged: list[Selection] = []
    composite = False
    for f in fields:
        if f.selections is not None:
            composite = True
            merged.extend(f.selections)
    if not composite:
        return None
    result = tuple(merged)
    keep.append(result)
    return result


def covers(available: tuple[Selection, ...] | None, field: FieldSelection) -> bool:
    """Is this field (with everything under it) among `available`, fragments ignored?"""
    if not available:
        return False
    for sel in available:
        if isinstance(sel, FragmentSelection):
            if covers(sel.selections, field):
                return True
            continue
        if sel.name != field.name or sel.args_key != field.args_key:
            continue
        if not field.selections:
            return True
        if all(
            covers(sel.selections, child)
            for child in _fields(field.selections)
            if child.name != "__typename"
        ):
            return True
    return False


def _fields(selections: tuple[Selection, ...]) -> list[FieldSelection]:
    found: list[FieldSelection] = []
    for sel in selections:
        if isinstance(sel, FieldSelection):
            found.append(sel)
        else:
            found.extend(_fields(sel.selections))
    return found


def pseudo_parts(
    graph: Graph, interface: str, selections: tuple[Selection, ...]
) -> tuple[dict[str, list[FieldSelection]], list[Selection]]:
    """At an @interfaceObject: fields on the interface itself, and parts needing the real type."""
    fields: dict[str, list[FieldSelection]] = {}
    units: list[Selection] = []

    def visit(items: tuple[Selection, ...]) -> None:
        for sel in items:
            if isinstance(sel, FieldSelection):
                fields.setdefault(sel.key, []).append(sel)
            elif sel.type_condition is None or sel.type_condition == interface:
                visit(sel.selections)
            else:
                units.append(sel)

    visit(selections)
    return fields, units


class Estimator:
    def __init__(self, graph: Graph, operation_kind: str) -> None:
        self.graph = graph
        self.sg = graph.sg
        self.operation_kind = operation_kind
        self.memo: dict[tuple, float] = {}
        self.active: set[tuple] = set()
        self.hit_cycle = False
        self.keep: list[object] = []
        self._merged: dict[tuple[int, ...], tuple[Selection, ...] | None] = {}

    # ---- helpers shared with the planner ------------------------------------------------------

    def children(self, fields: list[FieldSelection]) -> tuple[Selection, ...] | None:
        cache_key = tuple(id(f) for f in fields)
        if cache_key not in self._merged:
            self._merged[cache_key] = merged_children(fields, self.keep)
            self.keep.append(fields)
        return self._merged[cache_key]

    def child_provided(
        self, graph: str, type_name: str, field: FieldSelection, provided: tuple[Selection, ...] | None
    ) -> tuple[Selection, ...] | None:
        inherited = self.graph.provided_child(provided, type_name, field.name)
        own = self.graph.provides(graph, type_name, field.name)
        if own is None:
            return inherited
        parsed = parse_field_set(own)
        if not inherited:
            return parsed
        combined = inherited + parsed
        self.keep.append(combined)
        return combined

    def interface_level_ok(
        self,
        graph: str,
        interface: str,
        runtime: list[str],
        direct: dict[str, list[FieldSelection]],
        provided: tuple[Selection, ...] | None,
    ) -> bool:
        """Can the interface itself answer these fields, whatever the object's type?"""
        g = self.graph
        for fields in direct.values():
            name = fields[0].name
            if name == "__typename":
                continue
            if g.field_join(interface, name, graph) is None:
                return False
            for object_type in runtime:
                if not g.local(graph, object_type, name, provided):
                    return False
        return True

    # ---- cost of a selection ------------------------------------------------------------------

    def at(self, where: Where, type_name: str, selections: tuple[Selection, ...] | None) -> float:
        if not selections:
            return 0.0
        memo_key = (type_name, id(selections), where.memo_key())
        found = self.memo.get(memo_key)
        if found is not None:
            return found
        if memo_key in self.active:
            self.hit_cycle = True
            return INF
        self.active.add(memo_key)
        outer = self.hit_cycle
        self.hit_cycle = False
        try:
            cost = self._at(where, type_name, selections)
        finally:
            self.active.discard(memo_key)
        if not self.hit_cycle:
            self.memo[memo_key] = cost
        self.hit_cycle = self.hit_cycle or outer
        return cost

    def _at(self, where: Where, type_name: str, selections: tuple[Selection, ...]) -> float:
        g, sg = self.graph, self.sg
        graph = where.graph
        if sg.is_abstract(type_name) and not sg.is_interface_object_in(type_name, graph):
            runtime = g.runtime_types(graph, type_name)
            direct, others = g.split_direct(type_name, selections)
            if sg.is_interface(type_name) and self.interface_level_ok(graph, type_name, runtime, direct, where.provided):
                cost = 0.0
                for fields in direct.values():
                    field = fields[0]
                    children = self.children(fields)
                    if field.is_typename or not children:
                        continue
                    cost += self.at(
                        where.down(type_name, field, self.child_provided(graph, type_name, field, where.provided)),
                        g.child_type(graph, type_name, field.name),
                        children,
                    )
                for fragment in others:
                    for object_type in runtime:
                        if g.applies(fragment.type_condition, object_type):
                            cost += self.at(where, object_type, fragment.selections)
                return cost
            direct_keys = frozenset(k for k in direct if k != "__typename")
            if not runtime and direct_keys:
                return INF
            total = 0.0
            targets: set[tuple] = set()
            for object_type in runtime:
                cost, found = self.object_cost(where, object_type, selections, False, direct_keys)
                total += cost
                targets |= found
            return total + len(targets)
        pseudo = sg.is_abstract(type_name)
        cost, found = self.object_cost(where, type_name, selections, pseudo, frozenset())
        return cost + len(found)

    def object_cost(
        self,
        where: Where,
        type_name: str,
        selections: tuple[Selection, ...],
        pseudo: bool,
        direct_keys: frozenset[str],
    ) -> tuple[float, set[tuple]]:
        g = self.graph
        graph = where.graph
        targets: set[tuple] = set()
        total = 0.0
        if pseudo:
            fields, units = pseudo_parts(g, type_name, selections)
        else:
            fields, units = g.collect(type_name, selections), []
        barrier_here = len(where.chain)
        for key, fields_for_key in fields.items():
            field = fields_for_key[0]
            if field.is_typename:
                if pseudo:
                    units.append(field)
                continue
            children = self.children(fields_for_key)
            barrier = max(where.barrier, barrier_here) if key in direct_keys else where.barrier
            if g.local(graph, type_name, field.name, where.provided):
                if children:
                    child_where = replace(
                        where.down(type_name, field, self.child_provided(graph, type_name, field, where.provided)),
                        barrier=barrier,
                    )
                    total += self.at(child_where, g.child_type(graph, type_name, field.name), children)
                continue
            if not where.chain and covers(where.entry, field):
                continue  # the representation already brought it
            options = self.field_options(where, type_name, field, children, pseudo, barrier)
            if not options:
                return INF, targets
            cost, jump = min(options, key=lambda pair: pair[0] + (0 if pair[1].signature in targets else 1))
            total += cost
            targets.add(jump.signature)
        for unit in units:
            options = self.unit_options(where, type_name, unit)
            if not options:
                return INF, targets
            cost, jump = min(options, key=lambda pair: pair[0] + (0 if pair[1].signature in targets else 1))
            total += cost
            targets.add(jump.signature)
        return total, targets

    # ---- jumps --------------------------------------------------------------------------------

    def field_options(
        self,
        where: Where,
        type_name: str,
        field: FieldSelection,
        children: tuple[Selection, ...] | None,
        pseudo: bool,
        barrier: int,
    ) -> list[tuple[float, Jump]]:
        """Possible jumps for a field with their costs: entity jumps here, else at ancestors."""
        g = self.graph
        groups = (
            g.entity_jumps(where.graph, type_name, field.name, pseudo, "field"),
            [
                jump
                for jump in g.parent_jumps(
                    where.graph, where.chain, (type_name, field), where.root_group, self.operation_kind
                )
                if jump.anchor >= barrier
            ],
        )
        for jumps in groups:
            found = []
            for jump in jumps:
                cost = self.jump_cost(where, type_name, field, children, jump)
                if cost < INF:
                    found.append((cost, jump))
            if found:
                return found
        return []

    def unit_options(self, where: Where, type_name: str, unit: Selection) -> list[tuple[float, Jump]]:
        """At an @interfaceObject: jumps to a subgraph that knows the object's real type."""
        kind = "fragment" if isinstance(unit, FragmentSelection) else "typename"
        found = []
        for jump in self.graph.entity_jumps(where.graph, type_name, "__typename", True, kind):
            cost, key = self.key_cost(where, type_name, jump)
            if isinstance(unit, FragmentSelection) and cost < INF:
                cost += self.at(Where(jump.target, entry=parse_field_set(key.fields)), jump.entity_type, (unit,))
            if cost < INF:
                found.append((cost, jump))
        return found

    def key_cost(self, where: Where, type_name: str, jump: Jump) -> tuple[float, Key]:
        """Cheapest key of a jump and what collecting it costs."""
        if jump.kind == "root":
            return 0.0, Key("", True)
        if jump.kind == "entity":
            anchor_where, anchor_type = where, type_name
        else:
            anchor_type = where.chain[jump.anchor][0]
            anchor_where = replace(where, chain=where.chain[: jump.anchor], provided=None)
        best: tuple[float, Key] | None = None
        for key in jump.keys:
            cost = self.at(anchor_where, anchor_type, parse_field_set(key.fields))
            if best is None or cost < best[0]:
                best = (cost, key)
        return best if best is not None else (INF, Key("", True))

    def jump_cost(
        self,
        where: Where,
        type_name: str,
        field: FieldSelection,
        children: tuple[Selection, ...] | None,
        jump: Jump,
    ) -> float:
        g = self.graph
        cost, key = self.key_cost(where, type_name, jump)
        if cost == INF:
            return INF
        entry = parse_field_set(key.fields) if key.fields else None
        if jump.kind == "entity":
            required = g.requires(jump.target, jump.entity_type, field.name)
            if required:
                cost += self.at(where, type_name, parse_field_set(required))
                if cost == INF:
                    return INF
            target_where = Where(jump.target, ((jump.entity_type, field),), False, entry=entry)
            target_type = jump.entity_type
        else:
            target_where = Where(
                jump.target, where.chain[jump.anchor :] + ((type_name, field),), jump.kind == "root", entry=entry
            )
            target_type = type_name
        if children:
            target_where = replace(target_where, provided=self.child_provided(jump.target, target_type, field, None))
            cost += self.at(target_where, g.child_type(jump.target, target_type, field.name), children)
        return cost
