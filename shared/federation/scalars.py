"""Custom scalars the subgraphs share (for a schema's `StrawberryConfig.scalar_map`).

`Long`: points and money in minor units exceed GraphQL's 32-bit Int. One definition for every
subgraph, so their SDLs agree and composition merges them. Bad values raise `GraphQLError`, not
`ValueError`: the error policy takes any other exception under a variable's coercion error for an
internal one and masks it, where the client should get BAD_USER_INPUT.
"""

from __future__ import annotations

from typing import NewType

import strawberry
from graphql import GraphQLError, IntValueNode

MAX_LONG = 2**53 - 1  # exact in JSON numbers everywhere (JavaScript included)


def _parse_long(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) > MAX_LONG:
        raise GraphQLError("a Long is a whole number within ±2^53-1")
    return value


def _parse_long_literal(node: object, _variables: object = None) -> int:
    if not isinstance(node, IntValueNode):
        raise GraphQLError("a Long is a whole number")
    return _parse_long(int(node.value))


Long = NewType("Long", int)

SCALARS = {
    Long: strawberry.scalar(
        name="Long",
        serialize=int,
        parse_value=_parse_long,
        parse_literal=_parse_long_literal,
        description="A whole number up to 2^53-1: points and money in minor units (Int stops at 2^31-1).",
    )
}
