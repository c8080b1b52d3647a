"""One database transaction's reads and writes; writes buffered and flushed a table at a time.

Every points operation locks its member(s), reads what it needs, decides in memory, then writes.
Buffering the writes lets a bulk ingestion of a thousand purchases cost a handful of statements
instead of several thousand round trips, and keeps single operations to one statement per table.
Statements are SQLAlchemy Core (the ORM's unit of work costs more than it gives here); `Prepared`
ones, and the flush's inserts and updates, run on the connection's asyncpg driver (see driver).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import Table, bindparam, insert, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Executable

from services.points.driver import Prepared, Rows

# Statements are built once per shape and reused: building a SQLAlchemy statement costs more than
# executing one (about 120 µs of CPU, measured on this stack).
_INSERTS: dict[tuple[Table, tuple[str, ...]], Prepared] = {}
_UPDATES: dict[tuple[Table, tuple[str, ...]], Prepared] = {}


def _insert_statement(table: Table, columns: tuple[str, ...]) -> Prepared:
    statement = _INSERTS.get((table, columns))
    if statement is None:
        statement = _INSERTS[(table, columns)] = Prepared(insert(table).values({c: bindparam(c) for c in columns}))
    return statement


def _update_statement(table: Table, columns: tuple[str, ...]) -> Prepared:
    statement = _UPDATES.get((table, columns))
    if statement is None:
        statement = _UPDATES[(table, columns)] = Prepared(
            update(table)
            .where(*(c == bindparam(f"k_{c.name}") for c in table.primary_key.columns))
            .values({name: bindparam(f"b_{name}") for name in columns})
        )
    return statement


class TrackedRow:
    """A row (a dataclass whose fields are its table's columns) loaded or created in a unit.

    New rows are inserted with the values they have at flush time; loaded rows write back the
    fields named to `Unit.changed`."""

    TABLE: ClassVar[Table]
    COLUMNS: ClassVar[tuple[str, ...]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if hasattr(cls, "TABLE"):
            cls.COLUMNS = tuple(c.name for c in cls.TABLE.columns if c.name in cls.__annotations__)

    def values(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.COLUMNS}

    def key(self) -> dict[str, Any]:
        return {c.name: getattr(self, c.name) for c in self.TABLE.primary_key.columns}


class Unit:
    """Reads and buffered writes of one transaction on `connection`, at one instant `now`."""

    def __init__(
        self, connection: AsyncConnection, now: datetime, *, insert_order: Sequence[Table], use_driver: bool = True
    ) -> None:
        self._connection = connection
        self.now = now
        self._use_driver = use_driver
        self._order = list(insert_order)
        self._inserts: dict[Table, list[dict[str, Any]]] = {}
        # (table, primary key values) -> columns to set; several updates of one row coalesce.
        self._updates: dict[tuple[Table, tuple[Any, ...]], dict[str, Any]] = {}
        self._new_rows: list[TrackedRow] = []
        self._changed: dict[int, tuple[TrackedRow, set[str]]] = {}
        self._new_ids: set[int] = set()
        self._driver_connection: Any = None

    async def connection(self) -> AsyncConnection:
        """The unit's connection (in its transaction), for Core statements run through SQLAlchemy."""
        return self._connection

    async def _driver(self) -> Any:
        """The asyncpg connection underneath, once the transaction has begun on it (SQLAlchemy
        sends BEGIN with its first statement): None before that, or when the driver is not used."""
        if not self._use_driver:
            return None
        if self._driver_connection is None:
            raw = await (await self.connection()).get_raw_connection()
            self._driver_connection = raw.driver_connection
        return self._driver_connection if self._driver_connection.is_in_transaction() else None

    async def execute(self, statement: Executable | Prepared, params: Mapping[str, Any] | None = None) -> Any:
        """Runs a statement in the unit's transaction; `Prepared` ones on the driver."""
        if isinstance(statement, Prepared):
            driver = await self._driver()
            if driver is not None:
                return Rows(await driver.fetch(statement.compiled().sql, *statement.args(params)))
            statement = statement.statement  # the first statement: SQLAlchemy opens the transaction
        connection = await self.connection()
        return await connection.execute(statement, params)  # type: ignore[arg-type]

    async def execute_many(self, statement: Prepared, params: Sequence[Mapping[str, Any]]) -> None:
        if len(params) == 1:
            await self.execute(statement, params[0])
            return
        driver = await self._driver()
        if driver is None:
            connection = await self.connection()
            await connection.execute(statement.statement, list(params))  # type: ignore[arg-type]
            return
        await driver.executemany(statement.compiled().sql, [statement.args(p) for p in params])

    def insert(self, table: Table, row: dict[str, Any]) -> None:
        if table not in self._order:
            raise ValueError(f"{table.name} has no place in this unit's insert order")
        self._inserts.setdefault(table, []).append(row)

    def update(self, table: Table, key: Mapping[str, Any], values: Mapping[str, Any]) -> None:
        """Sets `values` on the existing row whose primary key is `key`."""
        pk = tuple(key[c.name] for c in table.primary_key.columns)
        self._updates.setdefault((table, pk), {}).update(values)

    def add(self, row: TrackedRow) -> None:
        self._new_rows.append(row)
        self._new_ids.add(id(row))

    def changed(self, row: TrackedRow, *fields: str) -> None:
        if id(row) in self._new_ids:
            return  # inserted with its final values anyway
        entry = self._changed.get(id(row))
        if entry is None:
            self._changed[id(row)] = (row, set(fields))
        else:
            entry[1].update(fields)

    def is_changed(self, row: TrackedRow) -> bool:
        return id(row) in self._changed

    async def flush(self) -> None:
        for row in self._new_rows:
            self.insert(row.TABLE, row.values())
        for row, fields in self._changed.values():
            self.update(row.TABLE, row.key(), {name: getattr(row, name) for name in fields})
        self._new_rows, self._changed, self._new_ids = [], {}, set()

        inserts, self._inserts = self._inserts, {}
        for table in self._order:
            by_shape: dict[tuple[str, ...], list[dict[str, Any]]] = {}
            for row in inserts.get(table, ()):
                by_shape.setdefault(tuple(row), []).append(row)
            for columns, rows in by_shape.items():
                await self.execute_many(_insert_statement(table, columns), rows)
        updates, self._updates = self._updates, {}
        grouped: dict[tuple[Table, tuple[str, ...]], list[dict[str, Any]]] = {}
        for (table, pk), values in updates.items():
            columns = tuple(sorted(values))
            params = {f"b_{name}": value for name, value in values.items()}
            for column, value in zip(table.primary_key.columns, pk):
                params[f"k_{column.name}"] = value
            grouped.setdefault((table, columns), []).append(params)
        for (table, columns), params in grouped.items():
            await self.execute_many(_update_statement(table, columns), params)
