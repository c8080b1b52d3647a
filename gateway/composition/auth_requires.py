"""A field computed from others (@requires) must be at least as protected as the data it reads.

If `Member.bonus @requires(fields: "tier")` and `Member.tier` needs @authenticated (or some scopes or policies, on
the field or on its type), then `bonus` must need them too: otherwise a client without them could read `tier`
through `bonus`. Apollo's composer refuses such supergraphs with MISSING_TRANSITIVE_AUTH_REQUIREMENTS. The same holds
for a field with an @fromContext argument and the context types and fields it reads.

Scopes and policies are in disjunctive normal form (`[["a", "b"], ["c"]]`: a and b, or c). A requirement R satisfies
another S when every alternative of R includes some alternative of S.
"""

from __future__ import annotations

from dataclasses import dataclass

from graphql.language import ListValueNode, StringValueNode

from .errors import Code, CompositionError, error
from .fieldset import FieldSel, FieldSetError, FragmentSel, Sel, parse_field_set
from .merged import Supergraph
from .metadata import context_reference, fields_arg

DNF = list[frozenset[str]]


@dataclass
class Requirements:
    authenticated: bool = False
    scopes: DNF | None = None
    policies: DNF | None = None

    def satisfies(self, other: Requirements) -> bool:
        return (
            (self.authenticated or not other.authenticated)
            and _implies(self.scopes, other.scopes)
            and _implies(self.policies, other.policies)
        )


def check_transitive_auth(sup: Supergraph) -> list[CompositionError]:
    errors = []
    for sg in sup.subgraphs:
        for t in sg.types.values():
            for f in t.fields.values():
                for requires in f.fed.get("requires", []):
                    merged_type = sup.types.get(t.name)
                    if merged_type is None or f.name not in merged_type.fields:
                        continue
                    coordinate = f"{t.name}.{f.name}"
                    own = _combine(_of(merged_type), _of(merged_type.fields[f.name]))
                    try:
                        selections = parse_field_set(sup.types, t.name, fields_arg(requires) or "")
                    except FieldSetError:
                        continue  # reported by the @requires checks
                    unmet = _first_unmet(sup, own, selections)
                    if unmet is not None:
                        errors.append(
                            error(
                                Code.MISSING_TRANSITIVE_AUTH_REQUIREMENTS,
                                f'[{sg.name}] Field "{coordinate}" does not specify necessary @authenticated,'
                                f" @requiresScopes and/or @policy auth requirements to access the transitive {unmet}"
                                " from @requires selection set.",
                                [sg.name],
                                [coordinate],
                            )
                        )
    return errors


def check_transitive_auth_from_context(sup: Supergraph) -> list[CompositionError]:
    """The same rule for @fromContext: the field must be as protected as the context types and the data it reads."""
    errors = []
    for sg in sup.subgraphs:
        for t in sg.types.values():
            merged_type = sup.types.get(t.name)
            for f in t.fields.values():
                if merged_type is None or f.name not in merged_type.fields:
                    continue
                own = _combine(_of(merged_type), _of(merged_type.fields[f.name]))
                for arg in f.args.values():
                    for d in arg.fed.get("fromContext", []):
                        reference = context_reference(fields_arg(d, "field") or "")
                        if reference is None:
                            continue
                        unmet = _unmet_in_context(sup, sg, own, *reference)
                        if unmet is not None:
                            errors.append(
                                error(
                                    Code.MISSING_TRANSITIVE_AUTH_REQUIREMENTS,
                                    f'[{sg.name}] Field "{t.name}.{f.name}" does not specify necessary @authenticated,'
                                    f" @requiresScopes and/or @policy auth requirements to access the transitive {unmet}"
                                    " from @fromContext selection set.",
                                    [sg.name],
                                    [f"{t.name}.{f.name}"],
                                )
                            )
    return errors


def _unmet_in_context(sup: Supergraph, sg, own: Requirements, context: str, selection: str) -> str | None:
    for setter in sg.types.values():
        if not any(fields_arg(c, "name") == context for c in setter.fed.get("context", [])):
            continue
        target = sup.types.get(setter.name)
        if target is None:
            continue
        if not own.satisfies(_of(target)):
            # (Apollo names the context as the supergraph does: qualified by the subgraph.)
            return f"data in context {sg.name}__{context}"
        try:
            selections = parse_field_set(sup.types, setter.name, selection)
        except FieldSetError:
            continue
        unmet = _first_unmet(sup, own, selections)
        if unmet is not None:
            return unmet
    return None


def _first_unmet(sup: Supergraph, own: Requirements, selections: list[Sel]) -> str | None:
    for s in selections:
        if isinstance(s, FieldSel):
            parent = sup.types[s.parent]
            selected = parent.fields.get(s.name)
            if selected is not None:
                returned = sup.types.get(selected.type.base)
                needed = [_of(selected)] + ([_of(returned)] if returned is not None else [])
                if not all(own.satisfies(n) for n in needed):
                    return f'field "{s.parent}.{s.name}" data'
        elif isinstance(s, FragmentSel) and s.type_condition and s.type_condition in sup.types:
            if not own.satisfies(_of(sup.types[s.type_condition])):
                return f'data in inline fragment type condition "{s.type_condition}"'
        unmet = _first_unmet(sup, own, s.selections or [])
        if unmet is not None:
            return unmet
    return None


def _of(element: object) -> Requirements:
    found = Requirements()
    for d in getattr(element, "directives", []):
        if d.name == "authenticated":
            found.authenticated = True
        elif d.name in ("requiresScopes", "policy"):
            attribute = "scopes" if d.name == "requiresScopes" else "policies"
            value = _dnf(d.args.get(attribute))
            current = getattr(found, attribute)
            setattr(found, attribute, value if current is None else _and(current, value))
    return found


def _combine(a: Requirements, b: Requirements) -> Requirements:
    def both(x: DNF | None, y: DNF | None) -> DNF | None:
        return y if x is None else x if y is None else _and(x, y)

    return Requirements(a.authenticated or b.authenticated, both(a.scopes, b.scopes), both(a.policies, b.policies))


def _dnf(value: object) -> DNF:
    if not isinstance(value, ListValueNode):
        return []
    return [
        frozenset(s.value for s in inner.values if isinstance(s, StringValueNode))
        for inner in value.values
        if isinstance(inner, ListValueNode)
    ]


def _and(x: DNF, y: DNF) -> DNF:
    # (a or b) and (c or d) = (a and c) or (a and d) or ...
    return [a | b for a in (x or [frozenset()]) for b in (y or [frozenset()])]


def _implies(mine: DNF | None, needed: DNF | None) -> bool:
    mine_alternatives = mine or [frozenset()]
    needed_alternatives = needed or [frozenset()]
    return all(any(n <= m for n in needed_alternatives) for m in mine_alternatives)
