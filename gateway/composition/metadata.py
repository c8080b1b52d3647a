"""Per-subgraph federation facts derived from directives: which fields are external, provided, used, shareable.

Recomputed whenever a subgraph changes (the fed1 upgrade edits subgraphs), so it is a plain snapshot.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from graphql.language import InlineFragmentNode, StringValueNode, print_ast

from .fieldset import FieldSetError, parse_field_set, parse_selection_text
from .model import Directive, Field, TypeDef, TypeKind
from .subgraph import Subgraph

Coord = tuple[str, str]


def fields_arg(d: Directive, name: str = "fields") -> str | None:
    """A string argument of a directive application (by default `fields`), None when absent."""
    value = d.args.get(name)
    return value.value if isinstance(value, StringValueNode) else None


def is_resolvable(key: Directive) -> bool:
    value = key.args.get("resolvable")
    return not (value is not None and getattr(value, "value", True) is False)


def collect_target_fields(sg: Subgraph, parent: str, text: str | None, include_implementations: bool) -> list[Coord]:
    """Fields a field set selects; lenient (what was read before an error still counts), like Apollo's."""
    found: list[Coord] = []
    if text is None or parent not in sg.types:
        return found

    def on_field(t: TypeDef, f: Field) -> None:
        found.append((t.name, f.name))
        if include_implementations and t.kind is TypeKind.INTERFACE:
            for impl in sg.implementations(t.name):
                if f.name in sg.types[impl].fields:
                    found.append((impl, f.name))

    try:
        parse_field_set(sg.types, parent, text, on_field=on_field)
    except FieldSetError:
        pass
    return found


@dataclass
class FederationMeta:
    declared_external: set[Coord] = field(default_factory=set)
    fake_external: set[Coord] = field(default_factory=set)
    provided: set[Coord] = field(default_factory=set)
    used: set[Coord] = field(default_factory=set)
    shareable: set[Coord] = field(default_factory=set)
    interface_objects: set[str] = field(default_factory=set)

    def is_external(self, type_name: str, field_name: str) -> bool:
        c = (type_name, field_name)
        return c in self.declared_external and c not in self.fake_external

    def is_fake_external(self, type_name: str, field_name: str) -> bool:
        return (type_name, field_name) in self.fake_external

    def is_partially_external(self, type_name: str, field_name: str) -> bool:
        return self.is_external(type_name, field_name) and (type_name, field_name) in self.provided

    def is_fully_external(self, type_name: str, field_name: str) -> bool:
        return self.is_external(type_name, field_name) and (type_name, field_name) not in self.provided

    def is_shareable(self, type_name: str, field_name: str) -> bool:
        return (type_name, field_name) in self.shareable

    def is_used(self, type_name: str, field_name: str) -> bool:
        return (type_name, field_name) in self.used


def is_type_extension(t: TypeDef) -> bool:
    """Whether keys on `t` come from an extension: `extend type` or @extends (fed1 style)."""
    return bool(t.fed.get("extends"))


def compute_meta(sg: Subgraph) -> FederationMeta:
    meta = FederationMeta()
    for t in sg.types.values():
        if t.kind is TypeKind.OBJECT and t.fed.get("interfaceObject"):
            meta.interface_objects.add(t.name)
        if t.kind not in (TypeKind.OBJECT, TypeKind.INTERFACE):
            continue
        # fed1 ignores @external on types (the upgrade drops it); fed2 makes every field of the type external.
        type_external = sg.is_fed2 and t.kind is TypeKind.OBJECT and bool(t.fed.get("external"))
        for f in t.fields.values():
            if f.fed.get("external") or type_external:
                meta.declared_external.add((t.name, f.name))
    for t in sg.types.values():
        for key in t.fed.get("key", []):
            # Key fields of an extension are "fake" externals: fed1 treated them as provided by the subgraph.
            if key.from_extension or is_type_extension(t):
                for c in collect_target_fields(sg, t.name, fields_arg(key), False):
                    f = sg.field(*c)
                    if f is not None and f.fed.get("external"):
                        meta.fake_external.add(c)
    for t in sg.types.values():
        for f in t.fields.values():
            for provides in f.fed.get("provides", []):
                meta.provided.update(collect_target_fields(sg, f.type.base, fields_arg(provides), True))
    _collect_used(sg, meta)
    _collect_shareable(sg, meta)
    return meta


_CONTEXT_REFERENCE = re.compile(r"^\s*\$(\w+)\s*(.*?)\s*$", re.S)


def context_reference(text: str) -> tuple[str, str] | None:
    """`"$name { field }"` (an @fromContext argument) -> ("name", "field"); None when it names no context."""
    match = _CONTEXT_REFERENCE.match(text)
    if match is None or not match.group(2):
        return None
    selection = match.group(2)
    if selection.startswith("{") and selection.endswith("}"):
        selection = selection[1:-1]
    return match.group(1), selection.strip()


def _per_type_condition(sg: Subgraph, parent: str, selection: str) -> list[tuple[str, str]]:
    """A context selection split by inline fragment (`... on A { x } ... on B { y }` -> (A, x), (B, y)); the whole
    selection on `parent` when it has none."""
    try:
        nodes = parse_selection_text(selection).selections
    except FieldSetError:
        return [(parent, selection)]
    if not nodes or not all(isinstance(n, InlineFragmentNode) and n.type_condition for n in nodes):
        return [(parent, selection)]
    return [
        (n.type_condition.name.value, print_ast(n.selection_set).strip()[1:-1])
        for n in nodes
        if n.type_condition.name.value in sg.types
    ]


def _collect_used(sg: Subgraph, meta: FederationMeta) -> None:
    for t in sg.types.values():
        for key in t.fed.get("key", []):
            meta.used.update(collect_target_fields(sg, t.name, fields_arg(key), True))
        for f in t.fields.values():
            for requires in f.fed.get("requires", []):
                meta.used.update(collect_target_fields(sg, t.name, fields_arg(requires), True))
            for provides in f.fed.get("provides", []):
                meta.used.update(collect_target_fields(sg, f.type.base, fields_arg(provides), True))
    # Fields an @fromContext argument reads from the types setting its context.
    for t in sg.types.values():
        for f in t.fields.values():
            for arg in f.args.values():
                for d in arg.fed.get("fromContext", []):
                    reference = context_reference(fields_arg(d, "field") or "")
                    if reference is None:
                        continue
                    name, selection = reference
                    for setter in sg.types.values():
                        if any(fields_arg(c, "name") == name for c in setter.fed.get("context", [])):
                            for parent, text in _per_type_condition(sg, setter.name, selection):
                                meta.used.update(collect_target_fields(sg, parent, text, True))
    # Fields that implement an interface field are needed to satisfy that interface.
    for itf in sg.types.values():
        if itf.kind is not TypeKind.INTERFACE:
            continue
        for impl in sg.implementations(itf.name):
            for name in itf.fields:
                if name in sg.types[impl].fields:
                    meta.used.add((impl, name))


def _collect_shareable(sg: Subgraph, meta: FederationMeta) -> None:
    for t in sg.types.values():
        if t.kind not in (TypeKind.OBJECT, TypeKind.INTERFACE):
            continue
        for key in t.fed.get("key", []):
            meta.shareable.update(collect_target_fields(sg, t.name, fields_arg(key), True))
        if t.kind is not TypeKind.OBJECT:
            continue
        on_type = t.fed.get("shareable", []) if sg.is_fed2 else []
        for f in t.fields.values():
            # A type-level @shareable covers the fields of the same block (definition or extension).
            if (sg.is_fed2 and f.fed.get("shareable")) or any(d.from_extension == f.from_extension for d in on_type):
                meta.shareable.add((t.name, f.name))
            for provides in f.fed.get("provides", []):
                for c in collect_target_fields(sg, f.type.base, fields_arg(provides), True):
                    if meta.is_external(*c):
                        meta.shareable.add(c)
