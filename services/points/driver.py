"""Hot statements: defined with SQLAlchemy Core, compiled once, run on the asyncpg connection.

Executing a cached Core statement through SQLAlchemy's async layer costs about 55 µs of CPU; the
same statement on asyncpg directly about 11 µs (measured on this stack). A hold or a capture runs
about ten statements, so on the hot paths that difference decides the throughput (see
bench/points_hold_capture.py). `Prepared` keeps the statement in Core (so it follows the models)
and compiles it once with SQLAlchemy's own asyncpg dialect; `Unit.execute` runs it on the driver
connection underneath the unit's transaction. Results come back as rows with the same access
the callers use on SQLAlchemy rows (`row.name`, `row._mapping`).

Binds of JSON columns are serialised here (SQLAlchemy would); everything else asyncpg takes as is.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.sql import Executable
from sqlalchemy.types import JSON

_DIALECT = asyncpg_dialect()


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]  # bind names in positional ($1, $2, …) order
    json: frozenset[str]  # binds to serialise
    constants: dict[str, Any]  # binds the statement carries its own value for (e.g. `remaining > 0`)


class Prepared:
    """A Core statement to run on the driver; build these once, at module level."""

    __slots__ = ("statement", "_compiled")

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self._compiled: _Compiled | None = None

    def compiled(self) -> _Compiled:
        if self._compiled is None:
            compiled = self.statement.compile(dialect=_DIALECT)
            names = tuple(compiled.positiontup or ())
            json_binds = frozenset(n for n in names if isinstance(compiled.binds[n].type, JSON))
            constants = {n: compiled.binds[n].value for n in names if not compiled.binds[n].required}
            self._compiled = _Compiled(str(compiled), names, json_binds, constants)
        return self._compiled

    def args(self, params: Mapping[str, Any] | None) -> list[Any]:
        compiled = self.compiled()
        if not compiled.names:
            return []
        values = {**compiled.constants, **(params or {})}
        return [
            orjson.dumps(values[n]).decode() if n in compiled.json and values[n] is not None else values[n]
            for n in compiled.names
        ]


class Row:
    """An asyncpg record read like a SQLAlchemy row."""

    __slots__ = ("_mapping",)

    def __init__(self, record: Mapping[str, Any]) -> None:
        self._mapping = record

    def __getattr__(self, name: str) -> Any:
        try:
            return self._mapping[name]
        except KeyError:
            raise AttributeError(name) from None


class Rows:
    """The few Result methods the ledger code uses."""

    __slots__ = ("_rows",)

    def __init__(self, records: Sequence[Mapping[str, Any]]) -> None:
        self._rows = [Row(r) for r in records]

    def __iter__(self) -> Iterator[Row]:
        return iter(self._rows)

    def all(self) -> list[Row]:
        return list(self._rows)

    def first(self) -> Row | None:
        return self._rows[0] if self._rows else None

    def one(self) -> Row:
        if len(self._rows) != 1:
            raise LookupError(f"expected one row, got {len(self._rows)}")
        return self._rows[0]
