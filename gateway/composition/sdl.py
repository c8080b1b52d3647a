"""Printing schema elements as SDL, in the layout Apollo's composer uses for supergraphs."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable

from graphql.language import (
    BooleanValueNode,
    EnumValueNode,
    FloatValueNode,
    IntValueNode,
    ListValueNode,
    NameNode,
    NullValueNode,
    ObjectFieldNode,
    ObjectValueNode,
    StringValueNode,
    ValueNode,
    VariableNode,
)
from graphql.language.block_string import print_block_string

from .model import Directive, DirectiveDef, EnumValue, Field, InputValue, TypeDef, TypeKind


def print_value(value: ValueNode) -> str:
    if isinstance(value, StringValueNode):
        return json.dumps(value.value, ensure_ascii=False)
    if isinstance(value, (IntValueNode, FloatValueNode, EnumValueNode)):
        return str(value.value)
    if isinstance(value, BooleanValueNode):
        return "true" if value.value else "false"
    if isinstance(value, NullValueNode):
        return "null"
    if isinstance(value, ListValueNode):
        return "[" + ", ".join(print_value(v) for v in value.values) + "]"
    if isinstance(value, ObjectValueNode):
        return "{" + ", ".join(f"{f.name.value}: {print_value(f.value)}" for f in value.fields) + "}"
    if isinstance(value, VariableNode):
        return f"${value.name.value}"
    raise TypeError(f"unexpected value node {value!r}")


def value_key(value: ValueNode | None) -> str | None:
    """A comparable form of a value: object fields are unordered, so sort them."""
    if value is None:
        return None
    if isinstance(value, ObjectValueNode):
        inner = sorted(f"{f.name.value}: {value_key(f.value)}" for f in value.fields)
        return "{" + ", ".join(inner) + "}"
    if isinstance(value, ListValueNode):
        return "[" + ", ".join(str(value_key(v)) for v in value.values) + "]"
    return print_value(value)


def print_directive(d: Directive) -> str:
    if not d.args:
        return f"@{d.name}"
    return f"@{d.name}(" + ", ".join(f"{k}: {print_value(v)}" for k, v in d.args.items()) + ")"


def print_description(description: str | None, indent: str = "", first_in_block: bool = True) -> str:
    if description is None:
        return ""
    text = print_block_string(description)
    lines = [indent + line if line else line for line in text.split("\n")]
    prefix = "" if first_in_block or not indent else "\n"
    return prefix + "\n".join(lines) + "\n"


def print_args(args: Iterable[InputValue], directives: Callable[[InputValue], list[str]], indent: str) -> str:
    args = list(args)
    if not args:
        return ""
    if all(a.description is None for a in args):
        return "(" + ", ".join(print_input_value(a, directives(a)) for a in args) + ")"
    inner = indent + "  "
    parts = []
    for i, a in enumerate(args):
        parts.append(print_description(a.description, inner, i == 0) + inner + print_input_value(a, directives(a)))
    return "(\n" + "\n".join(parts) + "\n" + indent + ")"


def print_input_value(a: InputValue, directives: list[str]) -> str:
    text = f"{a.name}: {a.type}"
    if a.default is not None:
        text += f" = {print_value(a.default)}"
    if directives:
        text += " " + " ".join(directives)
    return text


class Printer:
    """Prints types with directive applications supplied by the caller (join directives, merged ones...)."""

    def __init__(self, directives: Callable[[object], list[str]]):
        self.directives = directives

    def type_def(self, t: TypeDef) -> str:
        head = print_description(t.description)
        keyword = {
            TypeKind.SCALAR: "scalar",
            TypeKind.OBJECT: "type",
            TypeKind.INTERFACE: "interface",
            TypeKind.UNION: "union",
            TypeKind.ENUM: "enum",
            TypeKind.INPUT_OBJECT: "input",
        }[t.kind]
        head += f"{keyword} {t.name}"
        if t.kind in (TypeKind.OBJECT, TypeKind.INTERFACE) and t.interfaces:
            head += " implements " + " & ".join(t.interfaces)
        type_directives = self.directives(t)
        # Type-level directives go one per line, as Apollo prints supergraphs.
        for d in type_directives:
            head += f"\n  {d}"
        if t.kind is TypeKind.SCALAR:
            return head
        if t.kind is TypeKind.UNION:
            if not t.members:
                return head
            sep = "\n " if type_directives else " "
            return head + f"{sep}= " + " | ".join(t.members)
        body = self._body(t)
        brace = "\n{" if type_directives else " {"
        return head + brace + "\n" + body + "\n}"

    def _body(self, t: TypeDef) -> str:
        lines: list[str] = []
        if t.kind in (TypeKind.OBJECT, TypeKind.INTERFACE):
            for i, f in enumerate(t.fields.values()):
                lines.append(self.field(f, i == 0))
        elif t.kind is TypeKind.INPUT_OBJECT:
            for i, f in enumerate(t.input_fields.values()):
                desc = print_description(f.description, "  ", i == 0)
                lines.append(desc + "  " + print_input_value(f, self.directives(f)))
        elif t.kind is TypeKind.ENUM:
            for i, v in enumerate(t.values.values()):
                lines.append(self.enum_value(v, i == 0))
        return "\n".join(lines)

    def field(self, f: Field, first: bool) -> str:
        text = print_description(f.description, "  ", first) + "  " + f.name
        text += print_args(f.args.values(), self.directives, "  ")
        text += f": {f.type}"
        ds = self.directives(f)
        if ds:
            text += " " + " ".join(ds)
        return text

    def enum_value(self, v: EnumValue, first: bool) -> str:
        text = print_description(v.description, "  ", first) + "  " + v.name
        ds = self.directives(v)
        if ds:
            text += " " + " ".join(ds)
        return text

    def directive_def(self, d: DirectiveDef) -> str:
        text = print_description(d.description) + f"directive @{d.name}"
        text += print_args(d.args.values(), self.directives, "")
        if d.repeatable:
            text += " repeatable"
        return text + " on " + " | ".join(d.locations)


class EnumName(str):
    """A Python string to be written as a GraphQL enum value (e.g. a join__Graph value)."""


def make_value(value: object) -> ValueNode:
    """Build a value node from plain Python data (used for the join directives we write)."""
    if isinstance(value, EnumName):
        return EnumValueNode(value=str(value))
    if isinstance(value, bool):
        return BooleanValueNode(value=value)
    if isinstance(value, int):
        return IntValueNode(value=str(value))
    if isinstance(value, str):
        return StringValueNode(value=value)
    if isinstance(value, list):
        return ListValueNode(values=tuple(make_value(v) for v in value))
    if isinstance(value, dict):
        return ObjectValueNode(
            fields=tuple(ObjectFieldNode(name=NameNode(value=k), value=make_value(v)) for k, v in value.items())
        )
    raise TypeError(f"cannot make a GraphQL value from {value!r}")


def make_directive(directive_name: str, /, **args: object) -> Directive:
    """A directive application; arguments whose value is None are left out."""
    return Directive(directive_name, {k: make_value(v) for k, v in args.items() if v is not None})
