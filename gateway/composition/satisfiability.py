"""Satisfiability: can every field of the supergraph API be reached from the query root through the subgraphs?

This walks the supergraph API from each root type while tracking the set of ways the subgraphs can be at the current
position (subgraph, the type standing for the current one there, fields provided by a @provides above). A field is
reachable if some way resolves it, either in its own subgraph or after an entity jump through a resolvable @key
whose fields that subgraph can supply; @requires conditions must be obtainable from the same position. When no way
works, the error shows a query that cannot be planned and, per subgraph, why (Apollo's SATISFIABILITY_ERROR).

It is a simplification of Apollo's validation: conditions of a key are only looked up in the subgraph leaving,
progressive @override labels count as both routes being open, and mutations are not partitioned per subgraph.
"""

from __future__ import annotations

from dataclasses import dataclass

from graphql.language import StringValueNode

from .errors import Code, CompositionError, error
from .fieldset import FieldSel, FieldSetError, FragmentSel, Sel, parse_field_set
from .merged import Supergraph
from .metadata import FederationMeta, fields_arg, is_resolvable
from .model import Field, TypeDef, TypeKind, TypeRef
from .subgraph import Subgraph

Prov = tuple  # frozen tree of provided fields: ((field name, Prov), ...)
State = tuple[int, str, Prov]  # (subgraph index, type standing for the current supergraph type there, provided)

_MAX_NODES = 200_000
_MAX_REQUIRES_DEPTH = 6


@dataclass
class _Step:
    field: str | None = None
    args: str = ""
    cast: str | None = None
    leaf: bool = True


def _prov_tree(selections: list[Sel]) -> Prov:
    tree: dict[str, Prov] = {}
    for s in selections:
        if isinstance(s, FieldSel):
            tree[s.name] = _merge_prov(tree.get(s.name, ()), _prov_tree(s.selections or []))
        else:
            for name, child in _prov_tree(s.selections):
                tree[name] = _merge_prov(tree.get(name, ()), child)
    return tuple(sorted(tree.items()))


def _merge_prov(a: Prov, b: Prov) -> Prov:
    if not a:
        return b
    if not b:
        return a
    merged = dict(a)
    for name, child in b:
        merged[name] = _merge_prov(merged.get(name, ()), child)
    return tuple(sorted(merged.items()))


class _Checker:
    def __init__(self, sup: Supergraph, metas: list[FederationMeta]):
        self.sup = sup
        self.sgs: list[Subgraph] = sup.subgraphs
        self.metas = metas
        self.errors: list[CompositionError] = []
        self.failed: set[str] = set()
        self.visited: set[tuple[str, frozenset[State]]] = set()
        self.nodes = 0
        self.overridden = self._overridden_fields()
        self.progressive = self._progressively_overridden_fields()
        # Inside a @requires condition: Apollo's composer does not follow progressive overrides there.
        self.in_requires = 0
        self.conditions_known: set[tuple[str, State, str]] = set()
        self.conditions_in_progress: set[tuple[str, State]] = set()
        self._parsed: dict[tuple[int, str, str], list[Sel] | None] = {}
        self._keys: dict[tuple[int, str], list[tuple[object, list[Sel] | None]]] = {}
        self._closures: dict[tuple[str, State], frozenset[State]] = {}

    def parse(self, idx: int, parent: str, text: str) -> list[Sel] | None:
        """A field set parsed against subgraph `idx` (-1: the supergraph), cached; None if invalid."""
        key = (idx, parent, text)
        if key not in self._parsed:
            types = self.sup.types if idx < 0 else self.sgs[idx].types
            try:
                self._parsed[key] = parse_field_set(types, parent, text)
            except FieldSetError:
                self._parsed[key] = None
        return self._parsed[key]

    # -- facts about subgraphs -----------------------------------------------------------------------------

    def _overridden_fields(self) -> set[tuple[int, str, str]]:
        """(subgraph, type, field) no longer resolved by that subgraph because another overrides it."""
        names = [s.name for s in self.sgs]
        out: set[tuple[int, str, str]] = set()
        for sg in self.sgs:
            for t in sg.types.values():
                for f in t.fields.values():
                    for d in f.fed.get("override", []):
                        source = d.args.get("from")
                        label = d.args.get("label")
                        if isinstance(source, StringValueNode) and source.value in names and label is None:
                            out.add((names.index(source.value), t.name, f.name))
        return out

    def _progressively_overridden_fields(self) -> set[tuple[int, str, str]]:
        """(subgraph, type, field) on either side of an @override with a label: which one resolves the field
        depends on the request."""
        names = [s.name for s in self.sgs]
        out: set[tuple[int, str, str]] = set()
        for idx, sg in enumerate(self.sgs):
            for t in sg.types.values():
                for f in t.fields.values():
                    for d in f.fed.get("override", []):
                        source = d.args.get("from")
                        if d.args.get("label") is not None and isinstance(source, StringValueNode):
                            out.add((idx, t.name, f.name))
                            if source.value in names:
                                out.add((names.index(source.value), t.name, f.name))
        return out

    def visible(self, element: object) -> bool:
        return not any(d.name == "inaccessible" for d in getattr(element, "directives", []))

    def sup_type(self, name: str) -> TypeDef | None:
        return self.sup.types.get(name)

    def runtime_types(self, types: dict[str, TypeDef], name: str) -> list[str]:
        t = types.get(name)
        if t is None:
            return []
        if t.kind is TypeKind.OBJECT:
            return [name]
        if t.kind is TypeKind.UNION:
            return list(t.members)
        return [o.name for o in types.values() if o.kind is TypeKind.OBJECT and name in o.interfaces]

    def local_field(self, state: State, name: str) -> tuple[Field | None, str | None]:
        """The field as resolved by the state's own subgraph, or None and why not."""
        idx, view, prov = state
        sg = self.sgs[idx]
        t = sg.types.get(view)
        f = t.fields.get(name) if t is not None else None
        if f is None:
            return None, "missing"
        if self.metas[idx].is_external(view, name) and name not in dict(prov):
            return None, "external"
        if (idx, view, name) in self.overridden:
            return None, "overridden"
        if self.in_requires and (idx, view, name) in self.progressive:
            return None, "missing"
        return f, None

    def child_prov(self, state: State, f: Field) -> Prov:
        idx, view, prov = state
        inherited = dict(prov).get(f.name, ())
        provided: Prov = ()
        for d in f.fed.get("provides", []):
            selections = self.parse(idx, f.type.base, fields_arg(d) or "")
            if selections is not None:
                provided = _merge_prov(provided, _prov_tree(selections))
        return _merge_prov(inherited, provided)

    def selection_local(self, state: State, selections: list[Sel]) -> bool:
        """Whether the subgraph of `state` can supply `selections` itself (used for key fields)."""
        idx, view, prov = state
        for s in selections:
            if isinstance(s, FragmentSel):
                if not self.selection_local(state, s.selections):
                    return False
                continue
            if s.name == "__typename":
                continue
            f, _ = self.local_field(state, s.name)
            if f is None:
                return False
            if s.selections and not self.selection_local((idx, f.type.base, self.child_prov(state, f)), s.selections):
                return False
        return True

    def keys_to(self, target_idx: int, target_view: str) -> list[tuple[object, list[Sel] | None]]:
        cached = self._keys.get((target_idx, target_view))
        if cached is None:
            t = self.sgs[target_idx].types.get(target_view)
            keys = t.fed.get("key", []) if t is not None else []
            cached = [(key, self.parse(target_idx, target_view, fields_arg(key) or "")) for key in keys]
            self._keys[(target_idx, target_view)] = cached
        return cached

    def jump_targets(self, sup_type: str, state: State) -> list[tuple[int, str]]:
        """(subgraph, view) an entity jump from `state` could land on, for supergraph type `sup_type`."""
        idx = state[0]
        st = self.sup_type(sup_type)
        views = [sup_type]
        if st is not None and st.kind is TypeKind.OBJECT:
            views += st.interfaces
        out = []
        for j, sg in enumerate(self.sgs):
            if j == idx:
                continue
            for view in views:
                t = sg.types.get(view)
                if t is None:
                    continue
                if view != sup_type and view not in self.metas[j].interface_objects:
                    continue
                out.append((j, view))
        return out

    def closure(self, sup_type: str, states: frozenset[State] | set[State]) -> set[State]:
        """The states plus every state reachable from them through resolvable entity keys."""
        if len(states) == 1 and not self.conditions_in_progress and not self.in_requires:
            # Only complete answers are cached: inside a key-condition check some jumps are cut to avoid cycles.
            (state,) = states
            cached = self._closures.get((sup_type, state))
            if cached is None:
                cached = self._closures[(sup_type, state)] = frozenset(self._closure(sup_type, states))
            return set(cached)
        return self._closure(sup_type, states)

    def _closure(self, sup_type: str, states: frozenset[State] | set[State]) -> set[State]:
        result = set(states)
        queue = list(states)
        while queue:
            state = queue.pop()
            for j, view in self.jump_targets(sup_type, state):
                if any(s[0] == j and s[1] == view for s in result):
                    continue
                for key, sel in self.keys_to(j, view):
                    if (
                        sel is not None
                        and is_resolvable(key)
                        and self.conditions_ok(sup_type, state, fields_arg(key) or "", sel)
                    ):
                        new = (j, view, ())
                        result.add(new)
                        queue.append(new)
                        break
        return result

    def conditions_ok(self, sup_type: str, state: State, text: str, sel: list[Sel]) -> bool:
        """Whether key fields can be collected from `state`: in its subgraph, or through other entity jumps."""
        if self.selection_local(state, sel):
            return True
        memo = (sup_type, state, text)
        if memo in self.conditions_known:
            return True
        guard = (sup_type, state)
        if guard in self.conditions_in_progress:
            return False
        self.conditions_in_progress.add(guard)
        try:
            selections = self.parse(-1, sup_type, text)
            if selections is None:
                return False
            ok = self._selections_ok(sup_type, self.closure(sup_type, {state}), selections, 0)
        finally:
            self.conditions_in_progress.discard(guard)
        if ok:
            self.conditions_known.add(memo)
        return ok

    # -- advancing ---------------------------------------------------------------------------------------

    def advance(
        self, sup_type: str, states: set[State], name: str, depth: int = 0
    ) -> tuple[bool, set[State], dict[int, list[str]]]:
        """Whether field `name` can be selected, the states after it, and why not from each subgraph that can't."""
        out: set[State] = set()
        ok = False
        reachable: set[State] = set()
        for state in states:
            reachable |= self.closure(sup_type, {state})
        for s2 in reachable:
            nxt = self._field_here(sup_type, s2, name, depth)
            if nxt is not None:
                out.update(nxt)
                ok = True
        reasons: dict[int, list[str]] = {}
        if not ok:
            for state in states:
                reasons[state[0]] = self._why(sup_type, state, name, depth)
        return ok, out, reasons

    def _field_here(self, sup_type: str, state: State, name: str, depth: int) -> set[State] | None:
        idx, view, prov = state
        f, _ = self.local_field(state, name)
        if f is None:
            t = self.sgs[idx].types.get(view)
            if t is not None and t.kind is TypeKind.INTERFACE and name not in t.fields:
                # An interface lacking the field in this subgraph: each implementation must provide it (an
                # interface with no implementation returns nothing, so anything goes).
                combined: set[State] = set()
                for impl in self.runtime_types(self.sgs[idx].types, view):
                    found = False
                    for s2 in self.closure(impl, {(idx, impl, prov)}):
                        res = self._field_here(impl, s2, name, depth)
                        if res is not None:
                            combined |= res
                            found = True
                    if not found:
                        return None
                return combined
            return None
        for requires in f.fed.get("requires", []):
            if depth >= _MAX_REQUIRES_DEPTH or not self.requires_ok(
                sup_type, state, fields_arg(requires) or "", depth + 1
            ):
                return None
        return {(idx, f.type.base, self.child_prov(state, f))}

    def requires_ok(self, sup_type: str, state: State, text: str, depth: int) -> bool:
        selections = self.parse(-1, sup_type, text)
        if selections is None:
            return False
        self.in_requires += 1
        try:
            return self._selections_ok(sup_type, self.closure(sup_type, {state}), selections, depth)
        finally:
            self.in_requires -= 1

    def _selections_ok(self, sup_type: str, states: set[State], selections: list[Sel], depth: int) -> bool:
        for s in selections:
            if isinstance(s, FragmentSel):
                target = s.type_condition or sup_type
                cast = self.downcast(target, states)
                if cast and not self._selections_ok(target, self.closure(target, cast), s.selections, depth):
                    return False
                continue
            if s.name == "__typename":
                continue
            ok, nxt, _ = self.advance(sup_type, states, s.name, depth)
            if not ok:
                return False
            if s.selections and nxt:
                sup_field = self.sup.types[sup_type].fields.get(s.name)
                if sup_field is None:
                    return False
                child = sup_field.type.base
                if not self._selections_ok(child, self.closure(child, nxt), s.selections, depth):
                    return False
        return True

    def downcast(self, target: str, states: set[State]) -> set[State]:
        out: set[State] = set()
        for state in states:
            idx, view, prov = state
            if view == target:
                out.add(state)
                continue
            types = self.sgs[idx].types
            if view in self.metas[idx].interface_objects:
                # The subgraph does not know the concrete types: find one that does, through the interface's key.
                for s2 in self.closure(view, {state}):
                    t2 = self.sgs[s2[0]].types.get(s2[1])
                    if (
                        t2 is not None
                        and t2.kind is TypeKind.INTERFACE
                        and target in self.runtime_types(self.sgs[s2[0]].types, s2[1])
                    ):
                        out.add((s2[0], target, ()))
                continue
            if target in self.runtime_types(types, view) or (
                target in types
                and types[target].kind is TypeKind.INTERFACE
                and view in self.runtime_types(types, target)
            ):
                out.add((idx, target, prov))
        return out

    def _why(self, sup_type: str, state: State, name: str, depth: int) -> list[str]:
        idx, view, prov = state
        coordinate = f"{sup_type}.{name}"
        sg = self.sgs[idx]
        reasons = []
        f, problem = self.local_field(state, name)
        if f is not None:
            reasons.append(f'cannot satisfy @require conditions on field "{coordinate}"')
        elif problem == "external":
            reasons.append(f'field "{coordinate}" is not resolvable because marked @external')
        elif problem == "overridden":
            by = [
                s.name
                for s in self.sgs
                if any(
                    isinstance(d.args.get("from"), StringValueNode) and d.args["from"].value == sg.name
                    for d in (s.field(view, name).fed.get("override", []) if s.field(view, name) else [])
                )
            ]
            reasons.append(
                f'field "{coordinate}" is not resolvable because it is overridden by subgraph "{", ".join(by)}"'
            )
        elif view != sup_type and sup_type not in sg.types:
            reasons.append(
                f'cannot find implementation type "{sup_type}" (supergraph interface "{view}" is declared with'
                f' @interfaceObject in "{sg.name}")'
            )
        else:
            reasons.append(f'cannot find field "{coordinate}"')
        for j, other in enumerate(self.sgs):
            if j == idx:
                continue
            other_type = other.types.get(view) or other.types.get(sup_type)
            if other_type is None or name not in other_type.fields or self.metas[j].is_external(other_type.name, name):
                continue
            keys = self.keys_to(j, other_type.name)
            kind = "type" if other_type.name == sup_type else "interface"
            if not keys:
                reasons.append(
                    f'cannot move to subgraph "{other.name}", which has field "{coordinate}", because {kind}'
                    f' "{other_type.name}" has no @key defined in subgraph "{other.name}"'
                )
            elif not any(is_resolvable(k) for k, _ in keys):
                reasons.append(
                    f'cannot move to subgraph "{other.name}", which has field "{coordinate}", because none of the @key'
                    f' defined on {kind} "{other_type.name}" in subgraph "{other.name}" are resolvable (they are all'
                    ' declared with their "resolvable" argument set to false)'
                )
            else:
                for key, sel in keys:
                    if is_resolvable(key) and (sel is None or not self.selection_local(state, sel)):
                        reasons.append(
                            f'cannot move to subgraph "{other.name}" using @key(fields: "{fields_arg(key)}") of'
                            f' "{other_type.name}", the key field(s) cannot be resolved from subgraph "{sg.name}"'
                        )
                    elif is_resolvable(key):
                        reasons.append(
                            f'cannot satisfy @require conditions on field "{coordinate}" in subgraph "{other.name}"'
                        )
        return reasons

    # -- walking the API schema ---------------------------------------------------------------------------------

    def run(self) -> list[CompositionError]:
        for kind in ("query", "mutation", "subscription"):
            root = self.sup.roots.get(kind)
            if root is None:
                continue
            states = frozenset((i, root, ()) for i, sg in enumerate(self.sgs) if root in sg.types)
            self._walk(kind, root, states, [])
        return self.errors

    def _walk(self, kind: str, root: str, start: frozenset[State], start_path: list[_Step]) -> None:
        stack: list[tuple[str, frozenset[State], list[_Step]]] = [(root, start, start_path)]
        while stack and self.nodes < _MAX_NODES:
            type_name, states, path = stack.pop()
            # Positions whose states reach the same subgraphs through keys explore the same way: visit one of them.
            reachable: set[State] = set()
            for state in states:
                reachable |= self.closure(type_name, {state})
            key = (type_name, frozenset(reachable))
            if key in self.visited:
                continue
            self.visited.add(key)
            self.nodes += 1
            t = self.sup_type(type_name)
            if t is None:
                continue
            if t.kind in (TypeKind.OBJECT, TypeKind.INTERFACE):
                for f in t.fields.values():
                    if not self.visible(f) or not self.visible(self.sup_type(f.type.base)):
                        continue
                    coordinate = f"{type_name}.{f.name}"
                    ok, nxt, reasons = self.advance(type_name, set(states), f.name)
                    step = _Step(field=f.name, args=_witness_args(self, f), leaf=self._is_leaf(f.type))
                    if not ok:
                        if coordinate not in self.failed:
                            self.failed.add(coordinate)
                            self._report(kind, path + [step], reasons, coordinate)
                        continue
                    if not step.leaf and nxt:
                        stack.append((f.type.base, frozenset(nxt), path + [step]))
            if t.kind in (TypeKind.INTERFACE, TypeKind.UNION):
                for runtime in self.runtime_types(self.sup.types, type_name):
                    if not self.visible(self.sup_type(runtime)):
                        continue
                    cast = self.downcast(runtime, set(states))
                    step = _Step(cast=runtime, leaf=False)
                    if cast:
                        stack.append((runtime, frozenset(cast), path + [step]))
                        continue
                    # A subgraph that does not know the type just never returns it; but an @interfaceObject
                    # stands for every implementation, so its subgraph must be able to say which one it is.
                    stuck = {s[0] for s in states if s[1] in self.metas[s[0]].interface_objects}
                    coordinate = f"{type_name}/{runtime}"
                    if stuck and coordinate not in self.failed:
                        self.failed.add(coordinate)
                        reasons = {
                            i: [
                                "no subgraph can be reached to resolve the implementation type of @interfaceObject"
                                f' type "{type_name}"'
                            ]
                            for i in stuck
                        }
                        self._report(kind, path + [step], reasons, runtime)

    def _is_leaf(self, ref: TypeRef) -> bool:
        t = self.sup_type(ref.base)
        return t is None or t.kind in (TypeKind.SCALAR, TypeKind.ENUM)

    def _report(self, kind: str, path: list[_Step], reasons: dict[int, list[str]], coordinate: str) -> None:
        query = _witness(kind, path)
        lines = []
        for idx in sorted(reasons):
            details = list(dict.fromkeys(reasons[idx]))
            name = self.sgs[idx].name
            if len(details) == 1:
                lines.append(f'- from subgraph "{name}": {details[0]}.')
            else:
                lines.append(f'- from subgraph "{name}":' + "".join(f"\n  - {d}." for d in details))
        message = (
            f"The following supergraph API query:\n{query}\ncannot be satisfied by the subgraphs because:\n"
            + "\n".join(lines)
        )
        self.errors.append(
            error(Code.SATISFIABILITY_ERROR, message, [self.sgs[i].name for i in sorted(reasons)], [coordinate])
        )


def _witness_value(checker: _Checker, ref: TypeRef) -> str:
    if ref.non_null:
        return _witness_value(checker, ref.of_type)  # type: ignore[arg-type]
    if ref.is_list:
        return "[]"
    name = ref.name
    if name == "Int":
        return "0"
    if name == "Float":
        return "3.14"
    if name == "Boolean":
        return "true"
    if name == "String":
        return '"A string value"'
    if name == "ID":
        return '"<any id>"'
    t = checker.sup_type(name or "")
    if t is not None and t.kind is TypeKind.ENUM and t.values:
        return next(iter(t.values))
    if t is not None and t.kind is TypeKind.INPUT_OBJECT:
        fields = [
            f"{f.name}: {_witness_value(checker, f.type)}"
            for f in t.input_fields.values()
            if f.type.non_null and f.default is None
        ]
        return "{" + ", ".join(fields) + "}"
    return '"<some value>"'


def _witness_args(checker: _Checker, f: Field) -> str:
    if not f.args:
        return ""
    return "(" + ", ".join(f"{a.name}: {_witness_value(checker, a.type)}" for a in f.args.values()) + ")"


def _witness(kind: str, path: list[_Step]) -> str:
    """The query, in Apollo's layout, that reaches the unsatisfiable field (`...` if it needs a selection)."""
    lines: list[str] = []
    for depth, step in enumerate(path, start=1):
        text = f"... on {step.cast}" if step.cast else f"{step.field}{step.args}"
        closes_here = depth == len(path) and step.leaf
        lines.append("  " * depth + text + ("" if closes_here else " {"))
    if path and not path[-1].leaf:
        lines.append("  " * (len(path) + 1) + "...")
    opened = len(path) - (1 if path and path[-1].leaf else 0)
    for depth in range(opened, 0, -1):
        lines.append("  " * depth + "}")
    head = "{" if kind == "query" else f"{kind} {{"
    return head + "\n" + "\n".join(lines) + "\n}"


def check_satisfiability(sup: Supergraph, metas: list[FederationMeta]) -> list[CompositionError]:
    return _Checker(sup, metas).run()
