"""The subgraph's custom scalar: Long (points and money exceed GraphQL's 32-bit Int)."""

from __future__ import annotations

from typing import NewType

import strawberry
from graphql import IntValueNode

MAX_LONG = 2**53 - 1  # exact in JSON numbers everywhere (JavaScript included)


def _parse_long(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) > MAX_LONG:
        raise ValueError("a Long is a whole number within ±2^53-1")
    return value


def _parse_long_literal(node: object, _variables: object = None) -> int:
    if not isinstance(node, IntValueNode):
        raise ValueError("a Long is a whole number")
    return _parse_long(int(node.value))


Long = NewType("Long", int)

# Custom scalars, for the schema's `StrawberryConfig.scalar_map`.
SCALARS = {
    Long: strawberry.scalar(
        name="Long",
        serialize=int,
        parse_value=_parse_long,
        parse_literal=_parse_long_literal,
        description="A whole number up to 2^53-1: points and money in minor units (Int stops at 2^31-1).",
    )
}
