"""Federation rules checked inside each subgraph: @key, @requires, @provides, @external, @shareable, ...

Messages follow Apollo's wording (`[subgraph] On type "T", for @key(fields: "x"): ...`) with its error codes.
"""

from __future__ import annotations

from typing import NamedTuple

from graphql.language import StringValueNode

from .errors import Code, CompositionError, error
from .fieldset import FieldSel, FieldSetError, Sel, parse_field_set
from .links import Version
from .metadata import FederationMeta, fields_arg, is_resolvable
from .model import Directive, Field, TypeDef, TypeKind
from .sdl import print_directive
from .rules_context import check_contexts
from .rules_placement import check_directive_placement
from .subgraph import Subgraph


class _FieldSetCodes(NamedTuple):
    invalid: str
    invalid_type: str
    missing_external: str | None
    directive_in_fields: str


_CODES = {
    "key": _FieldSetCodes(
        Code.KEY_INVALID_FIELDS, Code.KEY_INVALID_FIELDS_TYPE, None, Code.KEY_HAS_DIRECTIVE_IN_FIELDS_ARG
    ),
    "requires": _FieldSetCodes(
        Code.REQUIRES_INVALID_FIELDS,
        Code.REQUIRES_INVALID_FIELDS_TYPE,
        Code.REQUIRES_FIELDS_MISSING_EXTERNAL,
        Code.REQUIRES_HAS_DIRECTIVE_IN_FIELDS_ARG,
    ),
    "provides": _FieldSetCodes(
        Code.PROVIDES_INVALID_FIELDS,
        Code.PROVIDES_INVALID_FIELDS_TYPE,
        Code.PROVIDES_FIELDS_MISSING_EXTERNAL,
        Code.PROVIDES_HAS_DIRECTIVE_IN_FIELDS_ARG,
    ),
}


class _Checker:
    def __init__(self, sg: Subgraph, meta: FederationMeta):
        self.sg = sg
        self.meta = meta
        self.errors: list[CompositionError] = []

    def fail(self, code: str, message: str, *coordinates: str) -> None:
        self.errors.append(error(code, f"[{self.sg.name}] {message}", [self.sg.name], coordinates))

    def run(self) -> list[CompositionError]:
        for t in self.sg.types.values():
            self._check_keys(t)
            for f in t.fields.values():
                for requires in f.fed.get("requires", []):
                    self._check_requires(t, f, requires)
                for provides in f.fed.get("provides", []):
                    self._check_provides(t, f, provides)
        self._check_externals()
        self._check_interface_keys()
        self._check_interface_objects()
        self._check_shareable()
        return self.errors

    # -- field sets ----------------------------------------------------------------------------------------

    def _parse(
        self, directive_name: str, d: Directive, target: str, where: str, coordinate: str, on_field=None
    ) -> list[Sel] | None:
        codes = _CODES[directive_name]
        invalid, invalid_type = codes.invalid, codes.invalid_type
        prefix = f"On {where}, for {print_directive(Directive(directive_name, d.args))}"
        value = d.args.get("fields")
        if not isinstance(value, StringValueNode):
            self.fail(invalid_type, f'{prefix}: Invalid value for argument "fields": must be a string.', coordinate)
            return None
        try:
            selections = parse_field_set(self.sg.types, target, value.value, on_field=on_field)
        except FieldSetError as exc:
            message = str(exc)
            if exc.unknown_field is not None:
                message = message.rstrip(".")
                if directive_name == "key":
                    message += (
                        " (the field should either be added to this subgraph or, if it should not be resolved by this"
                        " subgraph, you need to add it to this subgraph with @external)."
                    )
                else:
                    message += (
                        " (if the field is defined in another subgraph, you need to add it to this subgraph with"
                        " @external)."
                    )
            self.fail(exc.code or invalid, f"{prefix}: {message}", coordinate)
            return None
        for sel in _walk(selections):
            if isinstance(sel, FieldSel) and sel.alias:
                self.fail(
                    invalid,
                    f'{prefix}: Cannot use alias "{sel.alias}" in "{sel.alias}: {sel.name}": aliases are not currently'
                    f" supported in @{directive_name}",
                    coordinate,
                )
                return None
            if sel.has_directives:
                self.fail(
                    codes.directive_in_fields,
                    f"{prefix}: cannot have directive applications in the @{directive_name}(fields:) argument.",
                    coordinate,
                )
                return None
        return selections

    def _check_keys(self, t: TypeDef) -> None:
        keys = t.fed.get("key", [])
        if not keys:
            return
        if t.kind is TypeKind.INTERFACE and (self.sg.federation_version or Version(2, 0)) < Version(2, 3):
            self.fail(
                Code.KEY_UNSUPPORTED_ON_INTERFACE,
                f'Cannot use @key on interface "{t.name}": @key is not yet supported on interfaces',
                t.name,
            )
            return
        if t.kind not in (TypeKind.OBJECT, TypeKind.INTERFACE):
            return
        for key in keys:
            with_args: list[str] = []

            def on_field(parent: TypeDef, f: Field, with_args=with_args) -> None:
                base = self.sg.types.get(f.type.base)
                if base is not None and base.kind in (TypeKind.UNION, TypeKind.INTERFACE):
                    kind = base.kind.value[: -len("Type")]
                    raise FieldSetError(
                        f'field "{parent.name}.{f.name}" is a {kind} type which is not allowed in @key',
                        code=Code.KEY_FIELDS_SELECT_INVALID_TYPE,
                    )
                if f.args:
                    with_args.append(f"{parent.name}.{f.name}")

            selections = self._parse("key", key, t.name, f'type "{t.name}"', t.name, on_field)
            if selections is not None and with_args:
                self.fail(
                    Code.KEY_FIELDS_HAS_ARGS,
                    f'On type "{t.name}", for {print_directive(Directive("key", key.args))}: field {with_args[0]} cannot'
                    " be included because it has arguments (fields with argument are not allowed in @key)",
                    t.name,
                )

    def _check_requires(self, t: TypeDef, f: Field, d: Directive) -> None:
        coordinate = f"{t.name}.{f.name}"
        if t.kind is TypeKind.INTERFACE:
            self.fail(
                Code.REQUIRES_UNSUPPORTED_ON_INTERFACE,
                f'Cannot use @requires on field "{coordinate}" of parent type "{t.name}": @requires is not yet'
                " supported within interfaces",
                coordinate,
            )
        selections = self._parse("requires", d, t.name, f'field "{coordinate}"', coordinate)
        if selections is not None:
            self._check_external_leaves("requires", d, f'field "{coordinate}"', coordinate, selections, False)

    def _check_provides(self, t: TypeDef, f: Field, d: Directive) -> None:
        coordinate = f"{t.name}.{f.name}"
        if self.meta.is_external(t.name, f.name):
            self.fail(
                Code.EXTERNAL_COLLISION_WITH_ANOTHER_DIRECTIVE,
                f'Cannot have both @provides and @external on field "{coordinate}"',
                coordinate,
            )
            return
        target = self.sg.types.get(f.type.base)
        if target is None or not target.is_composite:
            self.fail(
                Code.PROVIDES_ON_NON_OBJECT_FIELD,
                f'Invalid @provides directive on field "{coordinate}": field has type "{f.type}" which is not a Composite Type',
                coordinate,
            )
            return
        if t.kind is TypeKind.INTERFACE:
            self.fail(
                Code.PROVIDES_UNSUPPORTED_ON_INTERFACE,
                f'Cannot use @provides on field "{coordinate}" of parent type "{t.name}": @provides is not yet'
                " supported within interfaces",
                coordinate,
            )
        with_args: list[str] = []

        def on_field(parent: TypeDef, field: Field) -> None:
            if field.args:
                with_args.append(f"{parent.name}.{field.name}")

        selections = self._parse("provides", d, target.name, f'field "{coordinate}"', coordinate, on_field)
        if selections is None:
            return
        if with_args:
            self.fail(
                Code.PROVIDES_FIELDS_HAS_ARGS,
                f'On field "{coordinate}", for {print_directive(Directive("provides", d.args))}: field {with_args[0]}'
                " cannot be included because it has arguments (fields with argument are not allowed in @provides)",
                coordinate,
            )
        self._check_external_leaves("provides", d, f'field "{coordinate}"', coordinate, selections, False)

    def _check_external_leaves(
        self, name: str, d: Directive, where: str, coordinate: str, selections: list[Sel], external_above: bool
    ) -> None:
        code = _CODES[name].missing_external
        prefix = f"On {where}, for {print_directive(Directive(name, d.args))}"
        for sel in selections:
            if not isinstance(sel, FieldSel):
                self._check_external_leaves(name, d, where, coordinate, sel.selections, external_above)
                continue
            if sel.name == "__typename":
                continue
            external = self.meta.is_external(sel.parent, sel.name)
            if not sel.selections and not external and not external_above:
                if self.meta.is_fake_external(sel.parent, sel.name):
                    detail = (
                        f'field "{sel.parent}.{sel.name}" should not be part of a @{name} since it is already'
                        ' "effectively" provided by this subgraph (while it is marked @external, it is a @key field of'
                        " an extension type, which are not internally considered external for historical/backward"
                        " compatibility reasons)"
                    )
                else:
                    detail = (
                        f'field "{sel.parent}.{sel.name}" should not be part of a @{name} since it is already provided'
                        " by this subgraph (it is not marked @external)"
                    )
                assert code is not None
                self.fail(code, f"{prefix}: {detail}", coordinate)
            if sel.selections:
                below = external_above or external or self._has_external_implementation(sel.parent, sel.name)
                self._check_external_leaves(name, d, where, coordinate, sel.selections, below)

    def _has_external_implementation(self, type_name: str, field_name: str) -> bool:
        t = self.sg.types[type_name]
        if t.kind is not TypeKind.INTERFACE:
            return False
        return any(self.meta.is_external(impl, field_name) for impl in self.sg.implementations(type_name))

    # -- other rules ---------------------------------------------------------------------------------------

    def _check_externals(self) -> None:
        for t in self.sg.types.values():
            if t.kind not in (TypeKind.OBJECT, TypeKind.INTERFACE):
                continue
            for f in t.fields.values():
                coordinate = f"{t.name}.{f.name}"
                if t.kind is TypeKind.INTERFACE and self.meta.is_external(t.name, f.name):
                    self.fail(
                        Code.EXTERNAL_ON_INTERFACE,
                        f'Interface type field "{coordinate}" is marked @external but @external is not allowed on'
                        " interface fields (it is nonsensical).",
                        coordinate,
                    )
                if self.meta.is_external(t.name, f.name) and not self.meta.is_used(t.name, f.name):
                    self.fail(
                        Code.EXTERNAL_UNUSED,
                        f'Field "{coordinate}" is marked @external but is not used in any federation directive (@key,'
                        " @provides, @requires) or to satisfy an interface; the field declaration has no use and"
                        " should be removed (or the field should not be @external).",
                        coordinate,
                    )

    def _check_interface_keys(self) -> None:
        for itf in self.sg.types.values():
            if itf.kind is not TypeKind.INTERFACE:
                continue
            impls = self.sg.implementations(itf.name)
            for key in itf.fed.get("key", []):
                try:
                    parse_field_set(self.sg.types, itf.name, fields_arg(key) or "")
                except FieldSetError:
                    continue  # an invalid key is reported as such, not as missing on the implementations
                text = _normalise_fields(fields_arg(key))
                missing: list[str] = []
                not_resolvable: list[str] = []
                for impl in impls:
                    match = next(
                        (k for k in self.sg.types[impl].fed.get("key", []) if _normalise_fields(fields_arg(k)) == text),
                        None,
                    )
                    if match is None:
                        missing.append(impl)
                    elif is_resolvable(key) and not is_resolvable(match):
                        not_resolvable.append(impl)
                shown = print_directive(Directive("key", key.args))
                if missing:
                    self.fail(
                        Code.INTERFACE_KEY_NOT_ON_IMPLEMENTATION,
                        f'Key {shown} on interface type "{itf.name}" is missing on implementation '
                        + _types_list(missing)
                        + ".",
                        itf.name,
                        *missing,
                    )
                elif not_resolvable:
                    self.fail(
                        Code.INTERFACE_KEY_NOT_ON_IMPLEMENTATION,
                        f'Key {shown} on interface type "{itf.name}" should be resolvable on all implementation types,'
                        ' but is declared with argument "@key(resolvable:)" set to false in '
                        + _types_list(not_resolvable)
                        + ".",
                        itf.name,
                        *not_resolvable,
                    )

    def _check_interface_objects(self) -> None:
        for t in self.sg.types.values():
            if t.fed.get("interfaceObject") and not t.fed.get("key"):
                self.fail(
                    Code.INTERFACE_OBJECT_USAGE_ERROR,
                    "The @interfaceObject directive can only be applied to entity types but type"
                    f' "{t.name}" has no @key in this subgraph.',
                    t.name,
                )

    def _check_shareable(self) -> None:
        for t in self.sg.types.values():
            if t.kind is TypeKind.INTERFACE:
                for f in t.fields.values():
                    if f.fed.get("shareable"):
                        self.fail(
                            Code.INVALID_SHAREABLE_USAGE,
                            f'Invalid use of @shareable on field "{t.name}.{f.name}": only object type fields can be'
                            " marked with @shareable",
                            f"{t.name}.{f.name}",
                        )


def _walk(selections: list[Sel]):
    for s in selections:
        yield s
        if s.selections:
            yield from _walk(s.selections)


def _normalise_fields(text: str | None) -> str:
    return " ".join((text or "").replace("{", " { ").replace("}", " } ").split())


def _types_list(names: list[str]) -> str:
    quoted = [f'"{n}"' for n in names]
    if len(quoted) == 1:
        return f"type {quoted[0]}"
    return "types " + ", ".join(quoted[:-1]) + " and " + quoted[-1]


def validate_subgraph(sg: Subgraph, meta: FederationMeta) -> list[CompositionError]:
    return _Checker(sg, meta).run() + check_directive_placement(sg) + check_contexts(sg)
