"""Checks that need the whole merged supergraph: interface fields implemented, @requires still valid once
arguments are intersected, @inaccessible leaving a coherent API schema, and plain GraphQL validity."""

from __future__ import annotations

from graphql import GraphQLError, build_ast_schema, parse, validate_schema

from .auth_requires import check_transitive_auth, check_transitive_auth_from_context
from .composed_applications import check_composed_applications
from .inaccessible_defaults import check_inaccessible_defaults
from .errors import Code, CompositionError, error
from .fieldset import FieldSetError, parse_field_set
from .merged import Supergraph
from .metadata import fields_arg
from .model import Directive, TypeDef, TypeKind
from .printer import print_supergraph
from .reporting import subgraph_names
from .sdl import print_directive
from .subgraph_validity import unchecked_by_apollo


def _hidden(element: object) -> bool:
    return any(d.name == "inaccessible" for d in getattr(element, "directives", []))


def check_interface_implementations(sup: Supergraph) -> list[CompositionError]:
    errors = []
    for t in sup.types.values():
        if t.kind not in (TypeKind.OBJECT, TypeKind.INTERFACE):
            continue
        for itf_name in t.interfaces:
            itf = sup.types.get(itf_name)
            if itf is None:
                continue
            for name in itf.fields:
                if name in t.fields:
                    continue
                with_field = [
                    sg.name
                    for sg in sup.subgraphs
                    if sg.types.get(itf_name) is not None
                    and sg.types[itf_name].kind is TypeKind.INTERFACE
                    and name in sg.types[itf_name].fields
                ]
                implementing = [
                    sg.name for sg in sup.subgraphs if t.name in sg.types and itf_name in sg.types[t.name].interfaces
                ]
                errors.append(
                    error(
                        Code.INTERFACE_FIELD_NO_IMPLEM,
                        f'Interface field "{itf_name}.{name}" is declared in {subgraph_names(with_field)} but type'
                        f' "{t.name}", which implements "{itf_name}" only in {subgraph_names(implementing)} does not'
                        f' have field "{name}".',
                        with_field + implementing,
                        [f"{itf_name}.{name}", t.name],
                    )
                )
    return errors


def check_requires_on_supergraph(sup: Supergraph) -> list[CompositionError]:
    """A @requires valid in its subgraph can break once field arguments are intersected across subgraphs."""
    errors = []
    for sg in sup.subgraphs:
        for t in sg.types.values():
            for f in t.fields.values():
                for requires in f.fed.get("requires", []):
                    if t.name not in sup.types:
                        continue
                    try:
                        parse_field_set(sup.types, t.name, fields_arg(requires) or "")
                    except FieldSetError as exc:
                        errors.append(_requires_error(sup, sg.name, f"{t.name}.{f.name}", requires, exc))
    return errors


def _requires_error(
    sup: Supergraph, subgraph: str, coordinate: str, requires: Directive, exc: FieldSetError
) -> CompositionError:
    """Word the error in terms of subgraphs: arguments are intersected, so some subgraph lacks what @requires uses."""
    detail = str(exc)
    involved = [subgraph]
    if exc.bad_argument is not None:
        type_name, field_name, arg, problem = exc.bad_argument
        field = f"{type_name}.{field_name}"
        others = [
            s.name
            for s in sup.subgraphs
            if s.name != subgraph
            and s.field(type_name, field_name) is not None
            and (
                arg not in s.field(type_name, field_name).args  # type: ignore[union-attr]
                if problem == "unknown"
                else _required(s.field(type_name, field_name).args.get(arg))  # type: ignore[union-attr]
            )
        ]
        involved += others
        if problem == "unknown":
            detail = (
                f'cannot provide a value for argument "{arg}" of field "{field}" as argument "{arg}" is not defined in'
                f" {subgraph_names(others)}"
            )
        else:
            detail = (
                f'no value provided for argument "{arg}" of field "{field}" but a value is mandatory as "{arg}" is'
                f" required in {subgraph_names(others)}"
            )
    return error(
        Code.REQUIRES_INVALID_FIELDS,
        f'[{subgraph}] On field "{coordinate}", for {print_directive(Directive("requires", requires.args))}: {detail}',
        involved,
        [coordinate],
    )


def _required(arg: object) -> bool:
    return arg is not None and arg.type.non_null and arg.default is None  # type: ignore[attr-defined]


def check_inaccessible(sup: Supergraph) -> list[CompositionError]:
    errors: list[CompositionError] = []
    hidden_types = {name for name, t in sup.types.items() if _hidden(t)}

    def defining(type_name: str, field_name: str | None = None) -> list[str]:
        return [
            sg.name
            for sg in sup.subgraphs
            if type_name in sg.types
            and (
                field_name is None
                or field_name in sg.types[type_name].fields
                or field_name in sg.types[type_name].input_fields
            )
        ]

    query = sup.roots.get("query")
    if query in hidden_types:
        errors.append(
            error(
                Code.QUERY_ROOT_TYPE_INACCESSIBLE,
                f'Type "{query}" is @inaccessible but is the root query type, which must be in the API schema.',
                defining(query),
                [query],
            )
        )
    for t in sup.types.values():
        if t.name in hidden_types:
            continue
        errors.extend(_check_visible_type(t, hidden_types, defining, sup))
    return errors


def _check_visible_type(t: TypeDef, hidden_types: set[str], defining, sup: Supergraph) -> list[CompositionError]:
    errors: list[CompositionError] = []

    def referenced(type_name: str, coordinate: str, owner: str, field_name: str | None) -> None:
        if type_name in hidden_types:
            errors.append(
                error(
                    Code.REFERENCED_INACCESSIBLE,
                    f'Type "{type_name}" is @inaccessible but is referenced by "{coordinate}", which is in the API schema.',
                    defining(type_name) + defining(owner, field_name),
                    [type_name, coordinate],
                )
            )

    def only_hidden(what: str, children: list[object]) -> None:
        if children and all(_hidden(c) for c in children):
            errors.append(
                error(
                    Code.ONLY_INACCESSIBLE_CHILDREN,
                    f'Type "{t.name}" is in the API schema but all of its {what} are @inaccessible.',
                    defining(t.name),
                    [t.name],
                )
            )

    if t.kind in (TypeKind.OBJECT, TypeKind.INTERFACE):
        only_hidden("fields", list(t.fields.values()))
        for f in t.fields.values():
            if _hidden(f):
                for itf_name in t.interfaces:
                    itf = sup.types.get(itf_name)
                    itf_field = itf.fields.get(f.name) if itf else None
                    if (
                        itf is not None
                        and itf_field is not None
                        and itf_name not in hidden_types
                        and not _hidden(itf_field)
                    ):
                        errors.append(
                            error(
                                Code.IMPLEMENTED_BY_INACCESSIBLE,
                                f'Field "{t.name}.{f.name}" is @inaccessible but implements the interface field'
                                f' "{itf_name}.{f.name}", which is in the API schema.',
                                defining(t.name, f.name),
                                [f"{t.name}.{f.name}", f"{itf_name}.{f.name}"],
                            )
                        )
                continue
            referenced(f.type.base, f"{t.name}.{f.name}", t.name, f.name)
            for a in f.args.values():
                coordinate = f"{t.name}.{f.name}({a.name}:)"
                if _hidden(a):
                    if a.type.non_null and a.default is None:
                        errors.append(
                            error(
                                Code.REQUIRED_INACCESSIBLE,
                                f'Argument "{coordinate}" is @inaccessible but is a required argument of its field.',
                                defining(t.name, f.name),
                                [coordinate],
                            )
                        )
                    continue
                referenced(a.type.base, coordinate, t.name, f.name)
    elif t.kind is TypeKind.INPUT_OBJECT:
        only_hidden("input fields", list(t.input_fields.values()))
        for a in t.input_fields.values():
            coordinate = f"{t.name}.{a.name}"
            if _hidden(a):
                if a.type.non_null and a.default is None:
                    errors.append(
                        error(
                            Code.REQUIRED_INACCESSIBLE,
                            f'Input field "{coordinate}" is @inaccessible but is a required input field of its type.',
                            defining(t.name, a.name),
                            [coordinate],
                        )
                    )
                continue
            referenced(a.type.base, coordinate, t.name, a.name)
    elif t.kind is TypeKind.UNION:
        if t.members and all(m in hidden_types for m in t.members):
            errors.append(
                error(
                    Code.ONLY_INACCESSIBLE_CHILDREN,
                    f'Type "{t.name}" is in the API schema but all of its members are @inaccessible.',
                    defining(t.name),
                    [t.name],
                )
            )
    elif t.kind is TypeKind.ENUM:
        only_hidden("values", list(t.values.values()))
    return errors


def check_graphql_validity(sup: Supergraph) -> list[CompositionError]:
    """The supergraph must be a valid GraphQL schema; anything caught here escaped a more specific rule."""
    try:
        # Our own printing is trusted for SDL-level rules: what matters here is type-level validity.
        document = parse(print_supergraph(sup), no_location=True)
        problems = list(validate_schema(build_ast_schema(document, assume_valid_sdl=True)))
    except GraphQLError as exc:
        problems = [exc]
    return [
        error(Code.INVALID_GRAPHQL, f"[supergraph] {p.message}", [s.name for s in sup.subgraphs])
        for p in problems
        if not unchecked_by_apollo(p.message)
    ]


def post_merge_checks(sup: Supergraph) -> list[CompositionError]:
    errors = check_interface_implementations(sup)
    errors += check_requires_on_supergraph(sup)
    errors += check_transitive_auth(sup) + check_transitive_auth_from_context(sup)
    if errors:
        return errors
    errors = check_graphql_validity(sup) + check_composed_applications(sup)
    if errors:
        return errors
    return check_inaccessible(sup) + check_inaccessible_defaults(sup)
