"""Default values in the API schema may not use what @inaccessible hides.

An argument or input field clients can see, whose default names a hidden enum value or sets a hidden input field,
would leak the hidden element through introspection and make the API schema invalid (Apollo:
DEFAULT_VALUE_USES_INACCESSIBLE).
"""

from __future__ import annotations

from collections.abc import Iterator

from graphql.language import EnumValueNode, ListValueNode, ObjectValueNode, ValueNode

from .errors import Code, CompositionError, error
from .merged import Supergraph
from .model import InputValue, TypeKind, TypeRef


def check_inaccessible_defaults(sup: Supergraph) -> list[CompositionError]:
    errors = []
    names = [s.name for s in sup.subgraphs]
    for coordinate, value in _visible_input_values(sup):
        for message in _hidden_uses(sup, value.default, value.type):
            errors.append(
                error(
                    Code.DEFAULT_VALUE_USES_INACCESSIBLE,
                    f'{message} is @inaccessible but is used in the default value of "{coordinate}", which is in the'
                    " API schema.",
                    names,
                    [coordinate],
                )
            )
    return errors


def _hidden(element: object) -> bool:
    return any(d.name == "inaccessible" for d in getattr(element, "directives", []))


def _visible_input_values(sup: Supergraph) -> Iterator[tuple[str, InputValue]]:
    for t in sup.types.values():
        if _hidden(t):
            continue
        for name, v in t.input_fields.items():
            if v.default is not None and not _hidden(v):
                yield f"{t.name}.{name}", v
        for f in t.fields.values():
            if _hidden(f):
                continue
            for name, a in f.args.items():
                if a.default is not None and not _hidden(a):
                    yield f"{t.name}.{f.name}({name}:)", a


def _hidden_uses(sup: Supergraph, value: ValueNode | None, ref: TypeRef) -> Iterator[str]:
    while ref.of_type is not None and not ref.is_list:
        ref = ref.of_type
    if value is None:
        return
    if ref.is_list:
        assert ref.of_type is not None
        for item in value.values if isinstance(value, ListValueNode) else [value]:
            yield from _hidden_uses(sup, item, ref.of_type)
        return
    target = sup.types.get(ref.base)
    if target is None:
        return
    if target.kind is TypeKind.ENUM and isinstance(value, EnumValueNode):
        enum_value = target.values.get(value.value)
        if enum_value is not None and _hidden(enum_value):
            yield f'Enum value "{target.name}.{value.value}"'
    elif target.kind is TypeKind.INPUT_OBJECT and isinstance(value, ObjectValueNode):
        for f in value.fields:
            declared = target.input_fields.get(f.name.value)
            if declared is None:
                continue
            if _hidden(declared):
                yield f'Input field "{target.name}.{f.name.value}"'
            yield from _hidden_uses(sup, f.value, declared.type)
