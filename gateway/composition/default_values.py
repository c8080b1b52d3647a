"""Default values in the supergraph, written as Apollo's composer writes them.

Apollo coerces each default to its input type and prints the coerced value back, graphql-js style: an ID that looks
like an integer is printed as one (`ID = "1"` becomes `ID = 1`), a Float as JavaScript prints numbers (`1.0` becomes
`1`, `2e3` becomes `2000`), and a single value given for a list type stays a single value. Other values (strings,
enums, custom scalars) are unchanged.
"""

from __future__ import annotations

import re
from decimal import Decimal

from graphql.language import (
    FloatValueNode,
    IntValueNode,
    ListValueNode,
    ObjectFieldNode,
    ObjectValueNode,
    StringValueNode,
    ValueNode,
)

from .merged import Supergraph
from .model import InputValue, TypeDef, TypeKind, TypeRef

_INTEGER = re.compile(r"^-?(?:0|[1-9][0-9]*)$")


def normalise_defaults(sup: Supergraph) -> None:
    """Rewrite every default value of the supergraph (arguments, input fields, directive arguments) in place."""
    values: list[InputValue] = []
    for t in sup.types.values():
        values += t.input_fields.values()
        for f in t.fields.values():
            values += f.args.values()
    for d in sup.directive_defs.values():
        values += d.args.values()
    for v in values:
        if v.default is not None:
            v.default = _coerced(v.default, v.type, sup.types)


def _coerced(value: ValueNode, ref: TypeRef, types: dict[str, TypeDef]) -> ValueNode:
    while ref.non_null:
        assert ref.of_type is not None
        ref = ref.of_type
    if ref.is_list:
        assert ref.of_type is not None
        item = ref.of_type
        if isinstance(value, ListValueNode):
            return ListValueNode(values=tuple(_coerced(v, item, types) for v in value.values))
        return _coerced(value, item, types)
    name = ref.base
    if name == "ID":
        text = value.value if isinstance(value, (StringValueNode, IntValueNode)) else None
        if text is not None:
            return IntValueNode(value=text) if _INTEGER.match(text) else StringValueNode(value=text)
    elif name == "Float" and isinstance(value, (IntValueNode, FloatValueNode)):
        text = js_number(float(value.value))
        return IntValueNode(value=text) if _INTEGER.match(text) else FloatValueNode(value=text)
    elif isinstance(value, ObjectValueNode):
        target = types.get(name)
        if target is not None and target.kind is TypeKind.INPUT_OBJECT:
            fields = []
            for f in value.fields:
                declared = target.input_fields.get(f.name.value)
                inner = _coerced(f.value, declared.type, types) if declared else f.value
                fields.append(ObjectFieldNode(name=f.name, value=inner))
            return ObjectValueNode(fields=tuple(fields))
    return value


def js_number(x: float) -> str:
    """A float as JavaScript's Number#toString writes it (shortest round-trip digits, exponent only when large)."""
    if x != x or x in (float("inf"), float("-inf")):
        return repr(x)
    if x == 0:
        return "0"
    sign = "-" if x < 0 else ""
    _, digit_tuple, exponent = Decimal(repr(abs(x))).normalize().as_tuple()
    digits = "".join(map(str, digit_tuple))
    k = len(digits)
    n = k + int(exponent)  # the decimal point sits after n digits
    if k <= n <= 21:
        text = digits + "0" * (n - k)
    elif 0 < n <= 21:
        text = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        text = "0." + "0" * (-n) + digits
    else:
        mantissa = digits[0] + ("." + digits[1:] if k > 1 else "")
        text = f"{mantissa}e{'+' if n - 1 >= 0 else '-'}{abs(n - 1)}"
    return sign + text
