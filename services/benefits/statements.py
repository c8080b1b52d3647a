"""Running the stores' SQL: written once with `:name` parameters, run on the asyncpg connection
underneath the session's transaction.

A statement through SQLAlchemy's async session costs about 170 µs of CPU here; the same one on
asyncpg about 40 µs (bench/benefits_codes.py measured the difference on the reservation path, ten
statements a step). The first statement of a transaction goes through the session, which sends
BEGIN with it; once the driver connection is in the transaction, statements go to it directly, in
the same transaction. Rows are read as on SQLAlchemy (`row.name`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

_PARAM = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


@lru_cache(maxsize=512)
def _positional(sql: str) -> tuple[str, tuple[str, ...]]:
    """`sql` with `:name` replaced by `$n` (a name used twice keeps its number), and the names."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in names:
            names.append(name)
        return f"${names.index(name) + 1}"

    return _PARAM.sub(number, sql), tuple(names)


class Row:
    """An asyncpg record read like a SQLAlchemy row."""

    __slots__ = ("_mapping",)

    def __init__(self, record: Any) -> None:
        self._mapping = record

    def __getattr__(self, name: str) -> Any:
        try:
            return self._mapping[name]
        except KeyError:
            raise AttributeError(name) from None


async def _driver(session: AsyncSession) -> Any:
    """The asyncpg connection once it is inside the session's transaction, else None."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    return driver if driver is not None and driver.is_in_transaction() else None


async def fetch(session: AsyncSession, sql: str, **params: Any) -> Sequence[Any]:
    """All rows of `sql` (or of its RETURNING), in the session's transaction."""
    driver = await _driver(session)
    if driver is None:
        return (await session.exec(text(sql), params=params)).all()  # type: ignore[call-overload]
    positional, names = _positional(sql)
    return [Row(record) for record in await driver.fetch(positional, *(params[name] for name in names))]


async def fetch_one(session: AsyncSession, sql: str, **params: Any) -> Any | None:
    """The first row of `sql`, or None."""
    rows = await fetch(session, sql, **params)
    return rows[0] if rows else None
