"""Parsing `fields:` selections of @key, @requires and @provides against a set of types."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from graphql import GraphQLSyntaxError
from graphql.language import (
    ArgumentNode,
    FieldNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    parse,
    print_ast,
)

from .model import Field, TypeDef, TypeKind


class FieldSetError(ValueError):
    """An invalid field set; `unknown_field` is set when the error is a field missing from its type."""

    def __init__(
        self,
        message: str,
        unknown_field: tuple[str, str] | None = None,
        code: str | None = None,
        bad_argument: tuple[str, str, str, str] | None = None,
    ):
        super().__init__(message)
        self.unknown_field = unknown_field
        # (type, field, argument, "unknown" | "missing") when an argument of a selected field is the problem.
        self.bad_argument = bad_argument
        # Set when a caller's check (through `on_field`) rejected the field with a specific error code.
        self.code = code


@dataclass
class FieldSel:
    parent: str
    name: str
    alias: str | None = None
    arguments: list[ArgumentNode] = field(default_factory=list)
    selections: list[Sel] | None = None
    has_directives: bool = False


@dataclass
class FragmentSel:
    parent: str
    type_condition: str | None
    selections: list[Sel] = field(default_factory=list)
    has_directives: bool = False


Sel = FieldSel | FragmentSel


def possible_runtime_types(types: Mapping[str, TypeDef], name: str) -> list[str]:
    """Object types a value of type `name` can have, in `types`."""
    t = types.get(name)
    if t is None:
        return []
    if t.kind is TypeKind.OBJECT:
        return [name]
    if t.kind is TypeKind.UNION:
        return [m for m in t.members if m in types]
    if t.kind is TypeKind.INTERFACE:
        return [o.name for o in types.values() if o.kind is TypeKind.OBJECT and name in o.interfaces]
    return []


def parse_selection_text(text: str) -> SelectionSetNode:
    try:
        document = parse("{" + text + "}", no_location=True)
    except GraphQLSyntaxError as exc:
        raise FieldSetError(exc.message) from None
    op = document.definitions[0]
    assert isinstance(op, OperationDefinitionNode)
    return op.selection_set


def parse_field_set(
    types: Mapping[str, TypeDef],
    parent: str,
    text: str,
    field_lookup: Callable[[TypeDef, str], Field | None] | None = None,
    on_field: Callable[[TypeDef, Field], None] | None = None,
) -> list[Sel]:
    """Parse and check `text` as a selection on `parent`. Raises FieldSetError on the first problem."""
    lookup = field_lookup or (lambda t, n: t.fields.get(n))
    return _resolve(types, parent, parse_selection_text(text), lookup, on_field)


def _resolve(
    types: Mapping[str, TypeDef],
    parent: str,
    node: SelectionSetNode,
    lookup: Callable[[TypeDef, str], Field | None],
    on_field: Callable[[TypeDef, Field], None] | None,
) -> list[Sel]:
    parent_type = types[parent]
    result: list[Sel] = []
    for selection in node.selections:
        if isinstance(selection, FieldNode):
            name = selection.name.value
            sel = FieldSel(
                parent=parent,
                name=name,
                alias=selection.alias.value if selection.alias else None,
                arguments=list(selection.arguments or ()),
                has_directives=bool(selection.directives),
            )
            if name == "__typename":
                if selection.selection_set is not None:
                    raise FieldSetError(
                        'Field "__typename" must not have a selection since type "String!" has no subfields.'
                    )
                result.append(sel)
                continue
            f = lookup(parent_type, name) if parent_type.kind is not TypeKind.UNION else None
            if f is None:
                raise FieldSetError(f'Cannot query field "{name}" on type "{parent}".', (parent, name))
            if on_field is not None:
                on_field(parent_type, f)
            _check_arguments(parent, f, selection)
            target = types.get(f.type.base)
            is_leaf = target is None or target.kind in (TypeKind.SCALAR, TypeKind.ENUM)
            if selection.selection_set is not None:
                if is_leaf:
                    raise FieldSetError(
                        f'Field "{name}" must not have a selection since type "{f.type}" has no subfields.'
                    )
                assert target is not None
                sel.selections = _resolve(types, target.name, selection.selection_set, lookup, on_field)
            elif not is_leaf:
                raise FieldSetError(
                    f'Field "{name}" of type "{f.type}" must have a selection of subfields. Did you mean "{name} {{ ... }}"?'
                )
            result.append(sel)
        elif isinstance(selection, InlineFragmentNode):
            condition = selection.type_condition.name.value if selection.type_condition else None
            if condition is not None:
                cond_type = types.get(condition)
                if cond_type is None:
                    raise FieldSetError(f'Unknown type "{condition}".')
                if not set(possible_runtime_types(types, condition)) & set(possible_runtime_types(types, parent)):
                    raise FieldSetError(
                        f'Fragment cannot be spread here as objects of type "{parent}" can never be of type "{condition}".'
                    )
            frag = FragmentSel(parent=parent, type_condition=condition, has_directives=bool(selection.directives))
            frag.selections = _resolve(types, condition or parent, selection.selection_set, lookup, on_field)
            result.append(frag)
        else:
            raise FieldSetError("Fragment spreads are not allowed in field sets.")
    return result


def _check_arguments(parent: str, f: Field, node: FieldNode) -> None:
    given = {a.name.value: a for a in node.arguments or ()}
    for name in given:
        if name not in f.args:
            raise FieldSetError(
                f'Unknown argument "{name}" found in value: "{parent}.{f.name}" has no argument "{name}".',
                bad_argument=(parent, f.name, name, "unknown"),
            )
    for name, arg in f.args.items():
        if arg.type.non_null and arg.default is None and name not in given:
            raise FieldSetError(
                f'Missing mandatory value for argument "{name}" of field "{parent}.{f.name}" in selection "{print_ast(node)}".',
                bad_argument=(parent, f.name, name, "missing"),
            )
