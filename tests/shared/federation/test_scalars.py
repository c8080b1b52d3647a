"""The shared Long scalar: whole numbers up to 2^53-1, and a bad value is the client's error, not a
masked internal one."""

from __future__ import annotations

import strawberry
from strawberry.schema.config import StrawberryConfig

from shared.federation import build_schema
from shared.federation.scalars import MAX_LONG, SCALARS, Long


@strawberry.type
class Query:
    @strawberry.field
    def echo(self, value: Long) -> Long:  # type: ignore[valid-type]
        return value


schema = build_schema(query=Query, config=StrawberryConfig(scalar_map=SCALARS))


async def test_a_long_round_trips_beyond_32_bits() -> None:
    result = await schema.execute("query($v: Long!) { echo(value: $v) }", variable_values={"v": MAX_LONG})
    assert result.errors is None and result.data == {"echo": MAX_LONG}


async def test_an_out_of_range_or_fractional_long_is_a_clear_client_error() -> None:
    for bad in (MAX_LONG + 1, 1.5, "12", True):
        result = await schema.execute("query($v: Long!) { echo(value: $v) }", variable_values={"v": bad})
        assert result.errors, bad
        message = result.errors[0].message
        assert "Long" in message and "internal" not in message.lower(), (bad, message)
