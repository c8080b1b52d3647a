"""Rules for @context and @fromContext inside one subgraph (federation 2.8).

A type sets a named context; an argument marked `@fromContext(field: "$name { field }")` on a field of an object
type below it takes its value from that context instead of the client. Checked here, with Apollo's codes: the
context name, that the context is set somewhere, where @fromContext may sit, that the selection is valid on every
type setting the context and has the argument's type, and that the type can be resolved through a @key (the
router fetches the field through an entity call to pass the value).
"""

from __future__ import annotations

import re

from graphql.language import InlineFragmentNode, StringValueNode, print_ast

from .errors import Code, CompositionError, error
from .fieldset import (
    FieldSel,
    FieldSetError,
    FragmentSel,
    parse_field_set,
    parse_selection_text,
    possible_runtime_types,
)
from .metadata import context_reference, is_resolvable
from .model import TypeDef, TypeKind, TypeRef
from .subgraph import Subgraph

def check_contexts(sg: Subgraph) -> list[CompositionError]:
    errors: list[CompositionError] = []

    def fail(code: str, message: str, coordinate: str) -> None:
        errors.append(error(code, f"[{sg.name}] {message}", [sg.name], [coordinate]))

    setters: dict[str, list[TypeDef]] = {}
    for t in sg.types.values():
        for d in t.fed.get("context", []):
            name = _string(d.args.get("name"))
            if "_" in name:
                fail(Code.CONTEXT_NAME_INVALID, f'Context name "{name}" may not contain an underscore.', t.name)
            elif not re.match(r"^[A-Za-z]\w*$", name):
                fail(
                    Code.CONTEXT_NAME_INVALID,
                    f'Context name "{name}" is invalid. It should have only alphanumeric characters.',
                    t.name,
                )
            setters.setdefault(name, []).append(t)
    for t in sg.types.values():
        for f in t.fields.values():
            for arg in f.args.values():
                for d in arg.fed.get("fromContext", []):
                    coordinate = f"{t.name}.{f.name}({arg.name}:)"
                    for code, message in _from_context_problems(sg, setters, t, f.name, arg, _string(d.args.get("field"))):
                        fail(code, message.replace("{coordinate}", coordinate), coordinate)
    return errors


def _from_context_problems(sg: Subgraph, setters, t: TypeDef, field_name: str, arg, reference: str):
    if t.kind is not TypeKind.OBJECT:
        yield Code.CONTEXT_NOT_SET, '@fromContext argument cannot be used on a field that exists on an abstract type "{coordinate}".'
        return
    for itf in t.interfaces:
        if field_name in getattr(sg.types.get(itf), "fields", {}):
            yield (
                Code.CONTEXT_NOT_SET,
                f'@fromContext argument cannot be used on a field implementing an interface field "{itf}.{field_name}".',
            )
    if arg.default is not None:
        yield Code.CONTEXT_NOT_SET, '@fromContext arguments may not have a default value: "{coordinate}".'
    parsed = context_reference(reference)
    if parsed is None:
        yield Code.NO_CONTEXT_IN_SELECTION, f'@fromContext argument does not reference a context "{reference}".'
        return
    context, selection = parsed
    if context not in setters:
        yield Code.CONTEXT_NOT_SET, f'Context "{context}" is used at location "{{coordinate}}" but is never set.'
    else:
        yield from _selection_problems(sg, context, selection, setters[context], arg.type)
    if not any(is_resolvable(k) for k in t.fed.get("key", [])):
        yield (
            Code.CONTEXT_NO_RESOLVABLE_KEY,
            f'Object "{t.name}" has no resolvable key but has a field with a contextual argument.',
        )


def _selection_problems(sg: Subgraph, context: str, selection: str, locations: list[TypeDef], expected: TypeRef):
    prefix = f'Context "{context}" is used in "{{coordinate}}" but the selection is invalid'
    used_conditions: set[str] = set()
    conditions: list[str] | None = None
    for location in locations:
        try:
            selections = _parse_leniently(sg, location.name, selection)
        except FieldSetError as exc:
            yield Code.CONTEXT_INVALID_SELECTION, f"{prefix} for type {location.name}. Error: {exc}"
            return
        if not selections or not isinstance(selections[0], FragmentSel):
            resolved = _selected_type(sg, selections)
            if resolved is None or not _fits(resolved, expected):
                yield (
                    Code.CONTEXT_INVALID_SELECTION,
                    f'{prefix}: the type of the selection "{resolved}" does not match the expected type "{expected}"',
                )
                return
            continue
        # One inline fragment per type that may set the context: `... on A { x } ... on B { y }`.
        if not all(isinstance(s, FragmentSel) for s in selections):
            yield Code.CONTEXT_INVALID_SELECTION, f"{prefix}: multiple fields could be selected"
            return
        conditions = [s.type_condition or "" for s in selections]
        if "" in conditions or len(set(conditions)) != len(conditions):
            yield Code.CONTEXT_INVALID_SELECTION, f"{prefix}: inline fragments must have distinct type conditions"
            return
        runtime = set(possible_runtime_types(sg.types, location.name))
        matching = []
        for s in selections:
            condition = sg.types.get(s.type_condition or "")
            if condition is None or condition.kind is not TypeKind.OBJECT:
                yield Code.CONTEXT_INVALID_SELECTION, f"{prefix}: type conditions must be an object type"
            elif condition.name in runtime:
                matching.append(s)
                used_conditions.add(condition.name)
        if not matching:
            yield Code.CONTEXT_INVALID_SELECTION, f'{prefix}: no type condition matches the location "{location.name}"'
            return
        for s in matching:
            resolved = _selected_type(sg, s.selections)
            if resolved is not None and resolved.non_null:
                resolved = resolved.of_type
            if resolved is None or not _fits(resolved, expected):
                yield (
                    Code.CONTEXT_INVALID_SELECTION,
                    f'{prefix}: the type of the selection "{resolved}" does not match the expected type "{expected}"',
                )
                return
    for condition in conditions or []:
        if condition not in used_conditions:
            yield Code.CONTEXT_INVALID_SELECTION, f'{prefix}: type condition "{condition}" is never used.'


def _parse_leniently(sg: Subgraph, parent: str, text: str) -> list:
    """Like parse_field_set, but a fragment whose type can never be `parent` is kept unparsed (Apollo ignores it for
    that location) instead of making the whole selection invalid."""
    nodes = parse_selection_text(text).selections
    if not nodes or not all(isinstance(n, InlineFragmentNode) and n.type_condition for n in nodes):
        return parse_field_set(sg.types, parent, text)
    runtime = set(possible_runtime_types(sg.types, parent))
    out = []
    for node in nodes:
        condition = node.type_condition.name.value
        inner = print_ast(node.selection_set).strip()[1:-1]
        if condition in sg.types and set(possible_runtime_types(sg.types, condition)) & runtime:
            out.append(FragmentSel(parent, condition, parse_field_set(sg.types, condition, inner)))
        else:
            out.append(FragmentSel(parent, condition, []))
    return out


def _selected_type(sg: Subgraph, selections) -> TypeRef | None:
    """The type of the one field a selection ends on (`{ a { b } }` -> type of b), None when it is not one field."""
    if len(selections) != 1 or not isinstance(selections[0], FieldSel):
        return None
    s = selections[0]
    f = sg.field(s.parent, s.name)
    if f is None:
        return None
    return _selected_type(sg, s.selections) if s.selections else f.type


def _fits(actual: TypeRef, expected: TypeRef) -> bool:
    """Whether a value of type `actual` can be passed where `expected` is declared (non-null may go to nullable)."""
    if expected.non_null:
        return actual.non_null and _fits(actual.of_type, expected.of_type)  # type: ignore[arg-type]
    if actual.non_null:
        return _fits(actual.of_type, expected)  # type: ignore[arg-type]
    if expected.is_list or actual.is_list:
        return expected.is_list and actual.is_list and _fits(actual.of_type, expected.of_type)  # type: ignore[arg-type]
    return actual.name == expected.name


def _string(value: object) -> str:
    return value.value if isinstance(value, StringValueNode) else ""
