"""Running the stores' SQL: written once with `:name` parameters, run on the asyncpg connection
underneath the session's transaction.

A small statement through SQLAlchemy's async session took about 170 µs here, the same one on
asyncpg about 40 µs; the reservation path runs several a step (see bench/benefits_codes.py). The first statement of a transaction goes through the session, which sends
BEGIN with it; once the driver connection is in the transaction, statements go to it directly, in
the same transaction. Rows are read as on SQLAlchemy (`row.name`). Parameters are `:name` (casts
are written CAST(… AS …), and SQL literals here never hold `:word`, which would read as one).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import orjson
from sqlalchemy import Table, text
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.sql import Executable
from sqlalchemy.types import JSON
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.idempotency import idempotency_statements, run_idempotent_with

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


_DRIVER = "abg.benefits.driver"


async def _driver(session: AsyncSession) -> Any:
    """The asyncpg connection once it is inside the session's transaction, else None. Remembered
    for the session's current transaction (looking it up costs about 50 µs)."""
    sync = session.sync_session
    transaction = sync.get_transaction()
    cached = sync.info.get(_DRIVER)
    if cached is not None and cached[0] is transaction and transaction is not None:
        return cached[1]
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    if driver is None or not driver.is_in_transaction():
        return None
    sync.info[_DRIVER] = (sync.get_transaction(), driver)
    return driver


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


# --- idempotency keys on the driver -------------------------------------------------------------------

_DIALECT = asyncpg_dialect()


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]  # bind names in positional order
    json: frozenset[str]  # binds asyncpg takes as JSON text


_compiled: dict[int, tuple[Executable, _Compiled]] = {}


def _compile(statement: Executable) -> _Compiled:
    found = _compiled.get(id(statement))
    if found is None or found[0] is not statement:
        compiled = statement.compile(dialect=_DIALECT)
        names = tuple(compiled.positiontup or ())
        json = frozenset(name for name in names if isinstance(compiled.binds[name].type, JSON))
        found = _compiled[id(statement)] = (statement, _Compiled(str(compiled), names, json))
    return found[1]


class _Rows:
    """The `first()`/`one()` that `shared.idempotency` reads its results with."""

    def __init__(self, records: Sequence[Any]) -> None:
        self._rows = [Row(record) for record in records]

    def first(self) -> Row | None:
        return self._rows[0] if self._rows else None

    def one(self) -> Row:
        if len(self._rows) != 1:
            raise LookupError(f"expected one row, got {len(self._rows)}")
        return self._rows[0]


async def run_idempotent(
    session: AsyncSession, table: Table, *, scope: str, key: str, request: Any,
    work: Callable[[], Awaitable[dict[str, Any]]],
) -> dict[str, Any]:
    """`shared.idempotency.run_idempotent` with its statements on the driver once the transaction
    has begun (the claim, usually the first statement, begins it through the session)."""

    async def execute(statement: Executable, params: Mapping[str, Any]) -> Any:
        driver = await _driver(session)
        if driver is None:
            return await session.exec(statement, params=params)  # type: ignore[call-overload]
        compiled = _compile(statement)
        args = [orjson.dumps(params[n]).decode() if n in compiled.json and params[n] is not None else params[n]
                for n in compiled.names]
        return _Rows(await driver.fetch(compiled.sql, *args))

    return await run_idempotent_with(execute, idempotency_statements(table), scope=scope, key=key, request=request, work=work)
