"""Upgrading fed1 subgraphs (no federation @link) to federation 2 semantics before merging.

Federation 1 meant different things by the same SDL: `extend type` marks the owner elsewhere, key fields marked
@external on an extension are really resolved locally, value types and non-key entity fields may be resolved by
several subgraphs without @shareable. Apollo rewrites such subgraphs as fed2 ones; this does the same rewrite so
both composers agree on the result.
"""

from __future__ import annotations

import copy

from graphql.language import EnumValueNode, ListValueNode, StringValueNode

from .errors import Code, CompositionError, error, subgraph_list
from .fieldset import FieldSel, FieldSetError, Sel, parse_field_set
from .metadata import FederationMeta, collect_target_fields, compute_meta, fields_arg
from .model import Directive, TypeDef, TypeKind
from .sdl import print_value
from .specs import FED1_UPGRADE_VERSION
from .subgraph import Subgraph


def print_selections(selections: list[Sel]) -> str:
    parts = []
    for s in selections:
        if isinstance(s, FieldSel):
            text = (f"{s.alias}: " if s.alias else "") + s.name
            if s.arguments:
                text += "(" + ", ".join(f"{a.name.value}: {print_value(a.value)}" for a in s.arguments) + ")"
            if s.selections:
                text += " { " + print_selections(s.selections) + " }"
        else:
            text = (
                "..."
                + (f" on {s.type_condition}" if s.type_condition else "")
                + " { "
                + print_selections(s.selections)
                + " }"
            )
        parts.append(text)
    return " ".join(parts)


def is_federation_type_extension(t: TypeDef) -> bool:
    has_extends = bool(t.fed.get("extends"))
    return (
        (t.has_extension or has_extends)
        and t.kind in (TypeKind.OBJECT, TypeKind.INTERFACE)
        and (has_extends or not t.has_definition)
    )


def is_root_type_extension(sg: Subgraph, t: TypeDef) -> bool:
    return (
        t.kind is TypeKind.OBJECT
        and sg.is_root(t.name)
        and (bool(t.fed.get("extends")) or (t.has_extension and not t.has_definition))
    )


def upgrade_subgraphs(subgraphs: list[Subgraph]) -> tuple[list[Subgraph], list[CompositionError]]:
    if all(s.is_fed2 for s in subgraphs):
        return subgraphs, []
    originals = {s.name: (s, compute_meta(s)) for s in subgraphs}
    result: list[Subgraph] = []
    errors: list[CompositionError] = []
    fed1_interface_keys: dict[str, list[str]] = {}
    for s in subgraphs:
        if s.is_fed2:
            result.append(s)
            continue
        upgrader = _Upgrader(s, originals)
        upgraded = upgrader.upgrade()
        errors.extend(upgrader.errors)
        result.append(upgraded)
        for type_name in upgrader.interface_key_types:
            fed1_interface_keys.setdefault(type_name, []).append(s.name)
    for s in subgraphs:
        if not s.is_fed2:
            continue
        for t in s.types.values():
            if t.fed.get("interfaceObject") and t.name in fed1_interface_keys:
                errors.append(
                    error(
                        Code.INTERFACE_OBJECT_USAGE_ERROR,
                        f'The @interfaceObject directive is used on type "{t.name}" in {subgraph_list([s.name])}, which'
                        " requires other subgraphs to resolve its type name via an interface @key. However, @key on an"
                        " interface in a federation 1 subgraph does not mean it can fulfill the __typename-resolution"
                        " requirement that @interfaceObject depends on. For"
                        f" {subgraph_list(fed1_interface_keys[t.name])}, either upgrade them to federation 2 subgraphs"
                        " or remove @key from the type.",
                        [s.name, *fed1_interface_keys[t.name]],
                        [t.name],
                    )
                )
    return result, errors


class _Upgrader:
    def __init__(self, original: Subgraph, originals: dict[str, tuple[Subgraph, FederationMeta]]):
        self.original = original
        self.original_meta = originals[original.name][1]
        self.others = [(s, m) for name, (s, m) in originals.items() if name != original.name]
        self.sg = copy.deepcopy(original)
        self.sg.is_fed2 = True
        self.sg.federation_version = FED1_UPGRADE_VERSION
        self.errors: list[CompositionError] = []
        self.interface_key_types: list[str] = []

    def fail(self, code: str, message: str, coordinates: list[str]) -> None:
        self.errors.append(error(code, f"[{self.sg.name}] {message}", [self.sg.name], coordinates))

    def upgrade(self) -> Subgraph:
        self._check_extensions_have_a_base()
        self._fix_fields_arguments()
        self._remove_external_on_interfaces_and_types()
        self._remove_external_on_type_extensions()
        self._remove_inactive_provides_and_requires()
        self._remove_type_extensions()
        self._remove_directives_on_interfaces()
        self._remove_provides_on_non_composite()
        self._remove_unused_externals()
        self._add_shareable()
        self._remove_tag_on_external()
        return self.sg

    def _others_with_type(self, name: str) -> list[tuple[Subgraph, FederationMeta, TypeDef]]:
        found = []
        for s, m in self.others:
            t = s.types.get(name)
            if t is not None and t.kind in (TypeKind.OBJECT, TypeKind.INTERFACE):
                found.append((s, m, t))
        return found

    def _check_extensions_have_a_base(self) -> None:
        for t in self.sg.types.values():
            if is_root_type_extension(self.sg, t) or not is_federation_type_extension(t):
                continue
            if any(other.has_definition for _, _, other in self._others_with_type(t.name)):
                continue
            self.fail(
                Code.EXTENSION_WITH_NO_BASE,
                f'Type "{t.name}" is an extension type, but there is no type definition for "{t.name}" in any subgraph.',
                [t.name],
            )

    def _fix_fields_arguments(self) -> None:
        # fed1 accepted `fields: ["a", "b"]` and unquoted `fields: id`; fed2 wants a string.
        def fix(d: Directive) -> None:
            value = d.args.get("fields")
            if isinstance(value, ListValueNode) and all(isinstance(v, StringValueNode) for v in value.values):
                d.args["fields"] = StringValueNode(value=" ".join(v.value for v in value.values))  # type: ignore[union-attr]
            elif isinstance(value, EnumValueNode):
                d.args["fields"] = StringValueNode(value=value.value)

        for t in self.sg.types.values():
            for d in t.fed.get("key", []):
                fix(d)
            for f in t.fields.values():
                for name in ("requires", "provides"):
                    for d in f.fed.get(name, []):
                        fix(d)

    def _remove_external_on_interfaces_and_types(self) -> None:
        for t in self.sg.types.values():
            if t.kind is TypeKind.INTERFACE:
                for f in t.fields.values():
                    f.fed.pop("external", None)
            elif t.kind is TypeKind.OBJECT:
                t.fed.pop("external", None)

    def _remove_external_on_type_extensions(self) -> None:
        for t in self.sg.types.values():
            if not t.is_composite or not (is_federation_type_extension(t) or is_root_type_extension(self.sg, t)):
                continue
            keys = t.fed.get("key", [])
            if keys:
                for key in keys:
                    for type_name, field_name in collect_target_fields(self.sg, t.name, fields_arg(key), False):
                        if type_name == t.name:
                            t.fields[field_name].fed.pop("external", None)
                continue
            # Without a key of its own, fed1 looked at the owner's first key: those fields are not external either.
            for other_sg, _, other in self._others_with_type(t.name):
                other_keys = other.fed.get("key", [])
                if not other_keys:
                    continue
                for type_name, field_name in collect_target_fields(
                    other_sg, other.name, fields_arg(other_keys[0]), False
                ):
                    own = t.fields.get(field_name)
                    if type_name == other.name and own is not None:
                        own.fed.pop("external", None)

    def _remove_inactive_provides_and_requires(self) -> None:
        for t in list(self.sg.types.values()):
            if t.kind not in (TypeKind.OBJECT, TypeKind.INTERFACE):
                continue
            for f in t.fields.values():
                self._prune(f.fed, "provides", f.type.base)
                self._prune(f.fed, "requires", t.name)

    def _is_external_or_has_external_impls(self, type_name: str, field_name: str) -> bool:
        f = self.sg.field(type_name, field_name)
        if f is not None and f.fed.get("external"):
            return True
        t = self.sg.types.get(type_name)
        if t is not None and t.kind is TypeKind.INTERFACE:
            for impl in self.sg.implementations(type_name):
                impl_field = self.sg.field(impl, field_name)
                if impl_field is not None and impl_field.fed.get("external"):
                    return True
        return False

    def _selects_non_external_leaf(self, selections: list[Sel]) -> bool:
        for s in selections:
            if isinstance(s, FieldSel):
                if s.name != "__typename" and self._is_external_or_has_external_impls(s.parent, s.name):
                    continue
                if not s.selections or self._selects_non_external_leaf(s.selections):
                    return True
            elif self._selects_non_external_leaf(s.selections):
                return True
        return False

    def _without_non_external_leaves(self, selections: list[Sel]) -> list[Sel]:
        kept: list[Sel] = []
        for s in selections:
            if isinstance(s, FieldSel) and self._is_external_or_has_external_impls(s.parent, s.name):
                kept.append(s)
                continue
            if s.selections:
                inner = self._without_non_external_leaves(s.selections)
                if inner:
                    clone = copy.copy(s)
                    clone.selections = inner
                    kept.append(clone)
        return kept

    def _prune(self, fed: dict[str, list[Directive]], name: str, parent: str) -> None:
        target = self.sg.types.get(parent)
        if target is None or not target.is_composite:
            return
        updated: list[Directive] = []
        for d in fed.get(name, []):
            try:
                selections = parse_field_set(self.sg.types, parent, fields_arg(d) or "")
            except FieldSetError:
                updated.append(d)
                continue
            if not self._selects_non_external_leaf(selections):
                updated.append(d)
                continue
            remaining = self._without_non_external_leaves(selections)
            if remaining:
                updated.append(Directive(d.name, {"fields": StringValueNode(value=print_selections(remaining))}))
        if updated:
            fed[name] = updated
        else:
            fed.pop(name, None)

    def _remove_type_extensions(self) -> None:
        for t in self.sg.types.values():
            if not (is_federation_type_extension(t) or is_root_type_extension(self.sg, t)):
                continue
            t.has_extension = False
            t.has_definition = True
            for applications in t.fed.values():
                for d in applications:
                    d.from_extension = False
            for d in t.directives:
                d.from_extension = False
            for f in t.fields.values():
                f.from_extension = False

    def _remove_directives_on_interfaces(self) -> None:
        for t in self.sg.types.values():
            if t.kind is not TypeKind.INTERFACE:
                continue
            if t.fed.pop("key", None):
                self.interface_key_types.append(t.name)
            for f in t.fields.values():
                f.fed.pop("provides", None)
                f.fed.pop("requires", None)

    def _remove_provides_on_non_composite(self) -> None:
        for t in self.sg.types.values():
            if t.kind is not TypeKind.OBJECT:
                continue
            for f in t.fields.values():
                target = self.sg.types.get(f.type.base)
                if target is None or not target.is_composite:
                    f.fed.pop("provides", None)

    def _remove_unused_externals(self) -> None:
        meta = compute_meta(self.sg)
        referenced = self._referenced_types()
        for t in list(self.sg.types.values()):
            if t.kind not in (TypeKind.OBJECT, TypeKind.INTERFACE):
                continue
            for name in list(t.fields):
                if meta.is_external(t.name, name) and not meta.is_used(t.name, name):
                    del t.fields[name]
            if t.fields or self.sg.is_root(t.name):
                continue
            if t.name in referenced:
                self.fail(
                    Code.TYPE_WITH_ONLY_UNUSED_EXTERNAL,
                    f"Type {t.name} contains only external fields and all those fields are all unused (they do not"
                    " appear in any @key, @provides or @requires).",
                    [t.name],
                )
            else:
                del self.sg.types[t.name]

    def _referenced_types(self) -> set[str]:
        names: set[str] = set()
        for t in self.sg.types.values():
            names.update(t.interfaces)
            names.update(t.members)
            for f in t.fields.values():
                names.add(f.type.base)
                names.update(a.type.base for a in f.args.values())
            names.update(f.type.base for f in t.input_fields.values())
        return names

    def _add_shareable(self) -> None:
        subscription = self.sg.roots.get("subscription")
        for t in self.sg.types.values():
            if t.kind is not TypeKind.OBJECT or t.name == subscription:
                continue
            others = self._others_with_type(t.name)
            if t.fed.get("key") or self.sg.is_root(t.name):
                for f in t.fields.values():
                    # Key fields are shareable already (fed1 schemas have no @shareable, so that is what this tests).
                    if self.original_meta.is_shareable(t.name, f.name):
                        continue
                    resolving = [
                        s.name
                        for s, m, other in others
                        if f.name in other.fields
                        and (not m.is_external(other.name, f.name) or m.is_partially_external(other.name, f.name))
                    ]
                    if resolving and not f.fed.get("shareable"):
                        f.fed["shareable"] = [Directive("shareable")]
            elif others and not t.fed.get("shareable"):
                t.fed["shareable"] = [Directive("shareable")]

    def _remove_tag_on_external(self) -> None:
        for t in self.sg.types.values():
            for f in t.fields.values():
                if not f.fed.get("external") or not f.fed.get("tag"):
                    continue
                kept = []
                for tag in f.fed["tag"]:
                    used_elsewhere = False
                    for _, _, other in self._others_with_type(t.name):
                        other_field = other.fields.get(f.name)
                        if other_field is None or other_field.fed.get("external"):
                            continue
                        if any(_same_args(tag, o) for o in other_field.fed.get("tag", [])):
                            used_elsewhere = True
                    if not used_elsewhere:
                        kept.append(tag)
                f.fed["tag"] = kept


def _same_args(a: Directive, b: Directive) -> bool:
    return {k: print_value(v) for k, v in a.args.items()} == {k: print_value(v) for k, v in b.args.items()}
