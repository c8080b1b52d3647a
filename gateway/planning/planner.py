"""Turning a client operation into a query plan.

The planner walks the operation. Each position sits in a fetch group (one subgraph request) at
a response path. A field the group's subgraph resolves there is added to the group; any other
field needs a jump (see `graph.py`), chosen with the help of the estimator, which creates or
reuses another group that depends on the groups providing its key and @requires fields.
Abstract positions are split per possible object type when the interface itself cannot answer
everything. Groups become the plan's fetches.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace

from ..supergraph.model import Supergraph, list_depth, unwrap_type_name
from .estimate import INF, Estimator, Where, pseudo_parts
from .fieldset import parse_field_set
from .graph import Graph, Jump, Step
from .keys import KeyAllocator
from .operation import FieldSelection, FragmentSelection, Operation, Selection
from .assemble import assemble
from .contexts import ContextBinder, add_context_dependencies, with_context_selections
from .groups import EntityInputBuilder, Group, Groups, InputTree
from .plan import QueryPlan
from .selection import SelSet


class PlanningError(Exception):
    """The operation cannot be resolved from the subgraphs."""


# ---- positions ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Frame:
    type: str
    selset: SelSet
    path: tuple[str, ...]
    field: FieldSelection
    provided: tuple[Selection, ...] | None


@dataclass(frozen=True, slots=True)
class Pos:
    group: Group
    selset: SelSet
    type: str
    path: tuple[str, ...]
    provided: tuple[Selection, ...] | None = None
    frames: tuple[Frame, ...] = ()
    narrow: frozenset[str] | None = None
    # Jumps at ancestors above this frame index are not allowed: set below a split abstract
    # position for fields asked on the interface itself, whose path must stay one path.
    barrier: int = 0
    tpath: tuple[str, ...] = ()  # the position's type at each level from the root down to here

    @property
    def chain(self) -> tuple[Step, ...]:
        return tuple((frame.type, frame.field) for frame in self.frames)

    def at_type(self, type_name: str) -> Pos:
        return replace(
            self,
            selset=self.selset.fragment(type_name),
            type=type_name,
            narrow=None,
            tpath=self.tpath[:-1] + (type_name,),
        )


@dataclass(slots=True)
class _Remote:
    field: FieldSelection | None = None
    fields: list[FieldSelection] | None = None
    children: tuple[Selection, ...] | None = None
    unit: Selection | None = None  # at an @interfaceObject: __typename or a fragment on a real type
    barrier: int = 0

    @property
    def label(self) -> str:
        if self.field is not None:
            return self.field.name
        if isinstance(self.unit, FragmentSelection):
            return f"... on {self.unit.type_condition}"
        return "__typename"


# ---- the planner ------------------------------------------------------------------------------


class Planner:
    def __init__(self, supergraph: Supergraph) -> None:
        self.supergraph = supergraph

    def plan(self, operation: Operation, labels: frozenset[str] = frozenset()) -> QueryPlan:
        return _PlanRun(self.supergraph, operation, labels).build()


_EXACT_SEARCH_LIMIT = 512


class _PlanRun:
    def __init__(self, supergraph: Supergraph, operation: Operation, labels: frozenset[str]) -> None:
        self.sg = supergraph
        self.op = operation
        self.contexts = ContextBinder(supergraph, set(operation.variable_definitions))
        self.graph = Graph(supergraph, labels)
        self.est = Estimator(self.graph, operation.kind)
        self.keys = KeyAllocator()
        self.keys.register_operation(operation.selections)
        self.groups = Groups()
        # (path, key) -> fetches that add that field there, with the types along the way there
        self.available: dict[tuple[str, str], list[tuple[Group, tuple[str, ...]]]] = {}

    # ---- entry ---------------------------------------------------------------------------------

    def build(self) -> QueryPlan:
        root_type = {"mutation": self.sg.mutation_type, "subscription": self.sg.subscription_type}.get(
            self.op.kind, self.sg.query_type
        )
        if root_type is None:
            raise PlanningError(f"The schema has no {self.op.kind} type.")
        # the context values @fromContext arguments read are fetched like client fields
        self.op = with_context_selections(self.sg, self.op, root_type)
        fields = self.graph.collect(root_type, self.op.selections)
        if self.op.kind != "query":
            # a subscription has one root field (validation says so): planned like a mutation, its
            # root fetch is the subgraph's subscription and the rest runs once per event
            self.plan_sequential_root(root_type, fields, self.op.kind)
        else:
            self.plan_query_root(root_type, fields)
        add_context_dependencies(self.groups.all, self.available)
        return assemble(self.groups, self.op)

    def where(self, pos: Pos) -> Where:
        return Where(
            pos.group.subgraph, pos.chain, pos.group.kind == "root", pos.provided, pos.barrier, pos.group.entry
        )

    def choose_root_subgraph(self, root_type: str, fields: list[FieldSelection], prefer: str | None) -> str:
        field_sel = fields[0]
        children = self.est.children(fields)
        best: tuple[float, str] | None = None
        candidates = [g for g in self.sg.subgraphs if self.graph.local(g, root_type, field_sel.name, None)]
        for graph in candidates:
            cost = 0.0
            if children:
                provided = self.est.child_provided(graph, root_type, field_sel, None)
                where = Where(graph, ((root_type, field_sel),), True, provided)
                cost = self.est.at(where, self.graph.child_type(graph, root_type, field_sel.name), children)
            if cost == INF:
                continue
            rank = cost + (0 if graph == prefer or (prefer is None and graph in self.groups.roots) else 1)
            if best is None or rank < best[0]:
                best = (rank, graph)
        if best is None:
            if candidates:
                # nothing below can be resolved from any of them: walking from the first one
                # stops at the field that cannot, which makes the clearer error
                return prefer if prefer in candidates else candidates[0]
            raise PlanningError(f'Cannot resolve field "{root_type}.{field_sel.name}" from any subgraph.')
        return best[1]

    def plan_query_root(self, root_type: str, fields: dict[str, list[FieldSelection]]) -> None:
        for fields_for_key in fields.values():
            field_sel = fields_for_key[0]
            if field_sel.name in ("__typename", "__schema", "__type"):
                continue
            graph = self.choose_root_subgraph(root_type, fields_for_key, None)
            group = self.groups.root(graph)
            self.add_local(Pos(group, group.selset, root_type, (), tpath=(root_type,)), field_sel, fields_for_key)

    def plan_sequential_root(self, root_type: str, fields: dict[str, list[FieldSelection]], kind: str) -> None:
        # Root mutation fields run one after another: each new root fetch waits for all the
        # fetches before it; consecutive fields of one subgraph share a fetch (it runs them in order).
        current: Group | None = None
        for fields_for_key in fields.values():
            field_sel = fields_for_key[0]
            if field_sel.name in ("__typename", "__schema", "__type"):
                continue
            graph = self.choose_root_subgraph(root_type, fields_for_key, current.subgraph if current else None)
            if current is None or current.subgraph != graph:
                before = set(self.groups.all)
                current = self.groups.new(graph, "root", kind, ())
                current.deps |= before
            self.add_local(Pos(current, current.selset, root_type, (), tpath=(root_type,)), field_sel, fields_for_key)

    # ---- walking -------------------------------------------------------------------------------

    def add_local(self, pos: Pos, field_sel: FieldSelection, fields: list[FieldSelection], barrier: int = -1) -> set[Group]:
        """Add a field the position's subgraph resolves, then plan its sub-selection from there."""
        graph, type_name = pos.group.subgraph, pos.type
        join = self.graph.field_join(type_name, field_sel.name, graph)
        if join is not None and join.context_arguments:
            if not self.at_entity_entry(pos):
                # the subgraph needs the value as an argument: ask it in an entity fetch of its own
                return self.jump_for_context(pos, field_sel, fields)
            field_sel = self.contexts.bind(pos.group, pos.tpath, field_sel, join.context_arguments)
        children = self.est.children(fields)
        type_sdl = self.graph.field_type(graph, type_name, field_sel.name)
        sel = pos.selset.add_field(
            field_sel.name, field_sel.key, field_sel.arguments, field_sel.args_key, type_sdl, children is not None
        )
        self.record(pos, field_sel)
        touched = {pos.group}
        if children is None or sel.selset is None:
            return touched
        child_type = unwrap_type_name(type_sdl)
        supergraph_type = self.sg.field_def(type_name, field_sel.name)
        api_type = unwrap_type_name(str(supergraph_type.type)) if supergraph_type else child_type
        if self.sg.is_abstract(api_type) and not self.sg.is_interface_object_in(child_type, graph):
            sel.selset.add_typename()
        narrow = None
        if self.sg.is_union(api_type):
            narrow = self.union_narrowing(pos, field_sel)
        child = Pos(
            pos.group,
            sel.selset,
            child_type,
            pos.path + (field_sel.key,) + ("@",) * list_depth(type_sdl),
            self.est.child_provided(graph, type_name, field_sel, pos.provided),
            pos.frames + (Frame(type_name, pos.selset, pos.path, field_sel, pos.provided),),
            narrow,
            max(pos.barrier, barrier),
            pos.tpath + (child_type,),
        )
        return touched | self.plan_at(child, children)

    @staticmethod
    def at_entity_entry(pos: Pos) -> bool:
        return pos.group.kind == "entity" and not pos.frames and pos.path == pos.group.path

    def jump_for_context(self, pos: Pos, field_sel: FieldSelection, fields: list[FieldSelection]) -> set[Group]:
        keys = tuple(self.sg.keys_in(pos.type, pos.group.subgraph))
        if not keys or not pos.path:
            raise PlanningError(
                f'"{pos.type}.{field_sel.name}" takes arguments from @context but "{pos.group.subgraph}" '
                "cannot resolve it in an entity fetch (no key)."
            )
        jump = Jump("entity", pos.group.subgraph, pos.type, -1, keys)
        return self.apply_jump(pos, jump, [_Remote(field_sel, fields, self.est.children(fields))])

    def record(self, pos: Pos, field_sel: FieldSelection) -> None:
        """Remember which fetch brings which field where, for keys and @requires built later."""
        path_key = ".".join(p for p in pos.path if p != "@")
        self.available.setdefault((path_key, field_sel.key), []).append((pos.group, pos.tpath))

    def covers_types(self, recorded: tuple[str, ...], wanted: tuple[str, ...]) -> bool:
        """Does a field fetched at positions of `recorded` types exist on every object `wanted` reaches?"""
        if len(recorded) != len(wanted):
            return False
        for have, want in zip(recorded, wanted):
            if have == want:
                continue
            if not (self.sg.is_abstract(have) and want in self.sg.possible_types(have)):
                return False
        return True

    def already_fetched(self, pos: Pos, field_sel: FieldSelection) -> set[Group] | None:
        """Fetches that already bring this field (and everything under it) to this position."""
        path_key = ".".join(p for p in pos.path if p != "@")
        return self._fetched(path_key, pos.tpath, field_sel)

    def _fetched(
        self, path_key: str, tpath: tuple[str, ...], field_sel: FieldSelection, strict: bool = True
    ) -> set[Group] | None:
        # Below the first level the object's own type is not checked (it may be any possible type).
        records = [
            (group, recorded)
            for group, recorded in self.available.get((path_key, field_sel.key), ())
            if self.covers_types(recorded if strict else recorded[:-1], tpath if strict else tpath[:-1])
        ]
        if not records:
            return None
        providers = {group for group, _ in records}
        if field_sel.selections:
            child_path = f"{path_key}.{field_sel.key}" if path_key else field_sel.key
            child_tpath = tpath + ("",)
            for child in _flat_fields(field_sel.selections):
                if child.is_typename:
                    continue
                found = self._fetched(child_path, child_tpath, child, strict=False)
                if found is None:
                    return None
                providers |= found
        return providers

    def union_narrowing(self, pos: Pos, field_sel: FieldSelection) -> frozenset[str] | None:
        """Members a union field may have whichever subgraph ends up resolving it.

        Subgraphs may list different members for one union. When several subgraphs could resolve
        this field here, the answer must not depend on which one the plan picked, so only the
        members all of them share are selected (what Hive Router does).
        """
        graphs = self.graph.alternative_graphs(
            pos.group.subgraph, pos.chain, (pos.type, field_sel), pos.group.kind == "root", self.op.kind
        )
        if len(graphs) < 2:
            return None
        shared: set[str] | None = None
        for graph in graphs:
            members = set(self.graph.runtime_types(graph, self.graph.child_type(graph, pos.type, field_sel.name)))
            shared = members if shared is None else shared & members
        return frozenset(shared or ())

    def plan_at(self, pos: Pos, selections: tuple[Selection, ...]) -> set[Group]:
        sg, graph_view = self.sg, self.graph
        graph, type_name = pos.group.subgraph, pos.type
        if sg.is_abstract(type_name) and not sg.is_interface_object_in(type_name, graph):
            pos.selset.add_typename()
            runtime = graph_view.runtime_types(graph, type_name)
            if pos.narrow is not None:
                runtime = [t for t in runtime if t in pos.narrow]
            direct, others = graph_view.split_direct(type_name, selections)
            touched = {pos.group}
            if sg.is_interface(type_name) and self.est.interface_level_ok(
                graph, type_name, runtime, direct, pos.provided
            ):
                for fields in direct.values():
                    if not fields[0].is_typename:
                        touched |= self.add_local(pos, fields[0], fields)
                for fragment in others:
                    for object_type in runtime:
                        if graph_view.applies(fragment.type_condition, object_type):
                            touched |= self.plan_object(pos.at_type(object_type), fragment.selections, False)
                return touched
            direct_keys = frozenset(k for k in direct if k != "__typename")
            if not runtime and direct_keys:
                path = ".".join(p for p in pos.path if p != "@") or "(root)"
                raise PlanningError(
                    f'Cannot resolve {", ".join(sorted(direct_keys))} on "{type_name}" at path "{path}" '
                    f'from "{graph}".'
                )
            for object_type in runtime:
                touched |= self.plan_object(pos.at_type(object_type), selections, False, direct_keys)
            return touched
        return self.plan_object(pos, selections, sg.is_abstract(type_name))

    def plan_object(
        self, pos: Pos, selections: tuple[Selection, ...], pseudo: bool, direct_keys: frozenset[str] = frozenset()
    ) -> set[Group]:
        graph_view = self.graph
        graph, type_name = pos.group.subgraph, pos.type
        if pseudo:
            fields, units = pseudo_parts(graph_view, type_name, selections)
        else:
            fields, units = graph_view.collect(type_name, selections), []
        touched: set[Group] = set()  # fetches this selection waits on; ours only if we add to it
        remote: list[_Remote] = []
        for key, fields_for_key in fields.items():
            field_sel = fields_for_key[0]
            if field_sel.is_typename:
                if pseudo:
                    remote.append(_Remote(unit=field_sel))
                continue
            barrier = len(pos.frames) if key in direct_keys else -1
            if graph_view.local(graph, type_name, field_sel.name, pos.provided):
                touched |= self.add_local(pos, field_sel, fields_for_key, barrier)
                continue
            providers = self.already_fetched(pos, field_sel)
            if providers is not None:
                touched |= providers
                continue
            remote.append(
                _Remote(field_sel, fields_for_key, self.est.children(fields_for_key), barrier=max(pos.barrier, barrier))
            )
        remote.extend(_Remote(unit=unit) for unit in units)
        if remote:
            touched |= self.plan_remote(pos, remote, pseudo)
        return touched

    # ---- jumps ---------------------------------------------------------------------------------

    def candidate_jumps(self, pos: Pos, item: _Remote, pseudo: bool) -> list[tuple[float, Jump]]:
        where = self.where(pos)
        if item.field is None:
            assert item.unit is not None
            return self.est.unit_options(where, pos.type, item.unit)
        return self.est.field_options(where, pos.type, item.field, item.children, pseudo, item.barrier)

    def reusable(self, pos: Pos, jump: Jump) -> bool:
        if jump.kind == "root":
            return jump.target in self.groups.roots
        path = pos.path if jump.kind == "entity" else pos.frames[jump.anchor].path
        return self.groups.has_entity(jump.target, path)

    def choose(self, pos: Pos, options: list[list[tuple[float, Jump]]]) -> list[Jump]:
        """One jump per remote item, minimising fetches (one per distinct target) plus their costs."""
        total = 1
        for item_options in options:
            total *= len(item_options)
        if total <= _EXACT_SEARCH_LIMIT:
            best: tuple[float, tuple[tuple[float, Jump], ...]] | None = None
            for combo in itertools.product(*options):
                seen: dict[tuple, Jump] = {}
                for _, jump in combo:
                    seen.setdefault(jump.signature, jump)
                cost = sum(c for c, _ in combo) + sum(0.0 if self.reusable(pos, j) else 1.0 for j in seen.values())
                if best is None or cost < best[0]:
                    best = (cost, combo)
            assert best is not None
            return [jump for _, jump in best[1]]
        # Too many combinations: greedy, reusing targets already chosen.
        chosen: list[Jump] = []
        used: set[tuple] = set()
        for item_options in options:
            _, jump = min(
                item_options,
                key=lambda pair: pair[0]
                + (0 if pair[1].signature in used or self.reusable(pos, pair[1]) else 1),
            )
            used.add(jump.signature)
            chosen.append(jump)
        return chosen

    def plan_remote(self, pos: Pos, items: list[_Remote], pseudo: bool) -> set[Group]:
        options: list[list[tuple[float, Jump]]] = []
        for item in items:
            found = self.candidate_jumps(pos, item, pseudo)
            if not found:
                path = ".".join(p for p in pos.path if p != "@") or "(root)"
                raise PlanningError(
                    f'Cannot resolve "{item.label}" on type "{pos.type}" at path "{path}": '
                    f'no subgraph can provide it from "{pos.group.subgraph}".'
                )
            options.append(found)
        chosen = self.choose(pos, options)
        touched: set[Group] = set()
        batches: dict[tuple, tuple[Jump, list[_Remote]]] = {}
        for item, jump in zip(items, chosen):
            batches.setdefault(jump.signature, (jump, []))[1].append(item)
        for jump, batch in batches.values():
            touched |= self.apply_jump(pos, jump, batch)
        return touched

    def apply_jump(self, pos: Pos, jump: Jump, items: list[_Remote]) -> set[Group]:
        if jump.kind == "entity":
            batches = self.split_by_requires(pos, jump, items)
            if len(batches) > 1:
                touched = set()
                for batch in batches:
                    touched |= self.apply_jump(pos, jump, batch)
                return touched
            target_pos = self.jump_to_entity(pos, jump, items)
            touched = {target_pos.group}
            real_interface = self.sg.is_abstract(jump.entity_type) and not self.sg.is_interface_object_in(
                jump.entity_type, jump.target
            )
            for item in items:
                if item.field is not None:
                    assert item.fields is not None
                    if real_interface:
                        # the target knows the implementations: let it split per type if needed
                        touched |= self.plan_at(target_pos, tuple(item.fields))
                    else:
                        touched |= self.add_local(target_pos, item.field, item.fields)
                elif isinstance(item.unit, FragmentSelection):
                    touched |= self.plan_at(target_pos, (item.unit,))
                else:
                    target_pos.selset.add_typename()
            return touched
        if jump.kind == "parent":
            anchor = pos.frames[jump.anchor]
            anchor_pos = Pos(
                pos.group,
                anchor.selset,
                anchor.type,
                anchor.path,
                anchor.provided,
                pos.frames[: jump.anchor],
                tpath=pos.tpath[: len(pos.tpath) - (len(pos.frames) - jump.anchor)],
            )
            target_pos = self.jump_to_entity(anchor_pos, jump, [])
            frames = pos.frames[jump.anchor :]
        else:
            group = self.groups.root(jump.target)
            target_pos = Pos(group, group.selset, self.sg.query_type, (), tpath=(self.sg.query_type,))
            frames = pos.frames
        for frame in frames:
            target_pos = self.replay_step(target_pos, frame.type, frame.field)
        if target_pos.type != pos.type:
            target_pos = target_pos.at_type(pos.type)
        touched = {target_pos.group}
        for item in items:
            assert item.field is not None and item.fields is not None
            touched |= self.add_local(target_pos, item.field, item.fields)
        return touched

    def replay_step(self, pos: Pos, type_name: str, field_sel: FieldSelection) -> Pos:
        if pos.type != type_name:
            pos = pos.at_type(type_name)
        graph = pos.group.subgraph
        type_sdl = self.graph.field_type(graph, type_name, field_sel.name)
        sel = pos.selset.add_field(
            field_sel.name, field_sel.key, field_sel.arguments, field_sel.args_key, type_sdl, True
        )
        assert sel.selset is not None
        child_type = unwrap_type_name(type_sdl)
        supergraph_type = self.sg.field_def(type_name, field_sel.name)
        api_type = unwrap_type_name(str(supergraph_type.type)) if supergraph_type else child_type
        if self.sg.is_abstract(api_type) or self.sg.is_abstract(child_type):
            sel.selset.add_typename()
        return Pos(
            pos.group,
            sel.selset,
            child_type,
            pos.path + (field_sel.key,) + ("@",) * list_depth(type_sdl),
            None,
            pos.frames + (Frame(type_name, pos.selset, pos.path, field_sel, None),),
            tpath=pos.tpath + (child_type,),
        )

    def split_by_requires(self, pos: Pos, jump: Jump, items: list[_Remote]) -> list[list[_Remote]]:
        """Fields whose @requires inputs conflict (same field, other arguments) need separate fetches."""
        path_key = ".".join(p for p in pos.path if p != "@")
        batches: list[tuple[InputTree, list[_Remote]]] = []
        for item in items:
            required = self.graph.requires(jump.target, jump.entity_type, item.field.name) if item.field else None
            tree = (
                self.input_tree(pos.type, self.keys.keyed(path_key, parse_field_set(required)))
                if required
                else InputTree()
            )
            for batch_tree, batch in batches:
                if batch_tree.merge(tree, True):
                    batch_tree.merge(tree, False)
                    batch.append(item)
                    break
            else:
                batches.append((tree, [item]))
        return [batch for _, batch in batches]

    def jump_to_entity(self, pos: Pos, jump: Jump, items: list[_Remote]) -> Pos:
        """Plan the key (and @requires inputs) at `pos`, then find or create the entity fetch."""
        where = self.where(pos)
        key = min(jump.keys, key=lambda k: self.est.at(where, pos.type, parse_field_set(k.fields)))
        path_key = ".".join(p for p in pos.path if p != "@")
        key_sels = self.keys.keyed(path_key, parse_field_set(key.fields))
        deps = self.plan_at(pos, key_sels)
        tree = self.input_tree(pos.type, key_sels)
        key_fields = [sel.name for sel in key_sels if isinstance(sel, FieldSelection)]
        for item in items:
            if item.field is None:
                continue
            required = self.graph.requires(jump.target, jump.entity_type, item.field.name)
            if not required:
                continue
            required_sels = self.keys.keyed(path_key, parse_field_set(required))
            deps |= self.plan_at(pos, required_sels)
            tree.merge(self.input_tree(pos.type, required_sels), False)
        group = self.groups.entity(
            jump.target, pos.path, pos.type, EntityInputBuilder(jump.entity_type, tree, key_fields), deps
        )
        if group.entry is None:
            group.entry = parse_field_set(key.fields)
        return Pos(
            group, group.selset.fragment(jump.entity_type), jump.entity_type, pos.path, tpath=pos.tpath
        )

    def input_tree(self, type_name: str, selections: tuple[Selection, ...]) -> InputTree:
        tree = InputTree()
        for sel in selections:
            if isinstance(sel, FieldSelection):
                sub = None
                if sel.selections:
                    definition = self.sg.field_def(type_name, sel.name)
                    child = unwrap_type_name(str(definition.type)) if definition else type_name
                    sub = self.input_tree(child, sel.selections)
                    if self.sg.is_abstract(child):
                        sub.fields = {"__typename": ("__typename", None), **sub.fields}
                tree.fields[sel.name] = (sel.key, sub)
            else:
                condition = sel.type_condition or type_name
                fragment = tree.fragments.setdefault(condition, InputTree())
                fragment.merge(self.input_tree(condition, sel.selections), False)
        return tree


def _flat_fields(selections: tuple[Selection, ...]) -> list[FieldSelection]:
    found: list[FieldSelection] = []
    for sel in selections:
        if isinstance(sel, FieldSelection):
            found.append(sel)
        else:
            found.extend(_flat_fields(sel.selections))
    return found


def plan_operation(supergraph: Supergraph, operation: Operation, labels: frozenset[str] = frozenset()) -> QueryPlan:
    return Planner(supergraph).plan(operation, labels)


__all__ = ["Frame", "Planner", "PlanningError", "Pos", "plan_operation"]
