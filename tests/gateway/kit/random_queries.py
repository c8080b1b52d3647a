"""Random valid operations over an API schema, for differential tests against a reference gateway.

Seeded, so a failing case can be replayed: fields (with the arguments the scenarios understand),
aliases, `__typename`, and fragments on every possible type of abstract positions, up to a depth.
"""

from __future__ import annotations

import random

from graphql import (
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    get_named_type,
    is_leaf_type,
)

# (type, field) -> argument text, with one "{}" filled from the choices
ARGUMENTS: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = {
    ("Query", "user"): ('id: "{}"', ("u1", "u2", "u3", "u9")),
    ("Query", "product"): ('upc: "{}"', ("p1", "p2", "p3", "p9")),
    ("Query", "review"): ('id: "{}"', ("r1", "r2", "r4")),
    ("Query", "products"): ("first: {}", ("1", "2", "3")),
    ("Product", "localPrice"): ('currency: "{}"', ("USD", "EUR")),
    ("Query", "search"): ('term: "{}"', ("a", "e", "i")),
    ("Query", "node"): ('id: "{}"', ("b1", "b2", "m1", "pe1")),
    ("Query", "edition"): ('sku: "{}"', ("s1", "s2")),
}


def random_query(schema: GraphQLSchema, seed: int, max_depth: int = 3) -> str:
    rnd = random.Random(seed)
    assert schema.query_type is not None
    return _selection(schema, schema.query_type.name, rnd, 0, max_depth)


def _selection(schema: GraphQLSchema, type_name: str, rnd: random.Random, depth: int, max_depth: int) -> str:
    named = schema.type_map[type_name]
    parts: list[str] = []
    if isinstance(named, (GraphQLInterfaceType, GraphQLUnionType)):
        if rnd.random() < 0.5:
            parts.append("__typename")
        if isinstance(named, GraphQLInterfaceType):
            for name, field in named.fields.items():
                if rnd.random() < 0.5:
                    parts.append(_field(schema, type_name, name, field, rnd, depth, max_depth))
        for possible in schema.get_possible_types(named):
            if rnd.random() < 0.6:
                parts.append(f"... on {possible.name} {_selection(schema, possible.name, rnd, depth, max_depth)}")
        return "{ " + " ".join(parts or ["__typename"]) + " }"
    assert isinstance(named, GraphQLObjectType)
    fields = list(named.fields.items())
    rnd.shuffle(fields)
    for name, field in fields[: rnd.randint(1, min(4, len(fields)))]:
        parts.append(_field(schema, type_name, name, field, rnd, depth, max_depth))
    if rnd.random() < 0.2:
        parts.append("__typename")
    return "{ " + " ".join(parts) + " }"


def _field(
    schema: GraphQLSchema,
    parent: str,
    name: str,
    field: GraphQLField,
    rnd: random.Random,
    depth: int,
    max_depth: int,
) -> str:
    arguments = ""
    known = ARGUMENTS.get((parent, name))
    if known is not None:
        template, choices = known
        arguments = "(" + template.format(rnd.choice(choices)) + ")"
    elif any(isinstance(arg.type, GraphQLNonNull) for arg in field.args.values()):
        return "__typename"  # an argument we would have to invent
    alias = f"a{rnd.randint(0, 99)}: " if rnd.random() < 0.15 else ""
    named = get_named_type(field.type)
    if is_leaf_type(named):
        return alias + name + arguments
    if depth >= max_depth:
        return "__typename"
    return alias + name + arguments + " " + _selection(schema, named.name, rnd, depth + 1, max_depth)
