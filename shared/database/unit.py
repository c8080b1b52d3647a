"""A unit of work: one transaction's reads, and its writes buffered and flushed a table at a time.

An operation locks what it needs, reads, decides in memory, then writes. Buffering the writes lets
a batch of a thousand items cost a handful of statements instead of thousands of round trips, and
keeps a single operation to one statement per table and shape. Statements are SQLAlchemy Core (an
ORM unit of work costs more than it gives on hot paths) run through an `Executor`: `Prepared` ones,
and the flush's inserts and updates, on the connection's asyncpg driver.

Rows are `TrackedRow`s: classes whose annotated fields are columns of their table. A row added with
`Unit.add` is inserted at the flush with the values it has then. A row read with `Unit.load` or
`Unit.fetch` is tracked: assigning one of its fields records the column as changed, and the flush
writes exactly the changed columns. Nothing else has to name them again, so a forgotten name can no
longer drop a write; a misspelt field is an `AttributeError` at once, and a field that is not a
column of the table is a `TypeError` when the class is defined.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar, TypeVar

from sqlalchemy import Table, bindparam, insert, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Executable

from shared.database.statements import Executor, Prepared

__all__ = ["TrackedRow", "Unit"]

R = TypeVar("R", bound="TrackedRow")

# Statements are built once per shape and reused: building a SQLAlchemy statement costs more than
# executing one (about 120 µs of CPU, measured on this stack).
_INSERTS: dict[tuple[Table, tuple[str, ...]], Prepared] = {}
_UPDATES: dict[tuple[Table, tuple[str, ...]], Prepared] = {}
_KEYS: dict[Table, tuple[str, ...]] = {}  # a table's primary key columns (SQLAlchemy's are slow to walk)


def _key_of(table: Table) -> tuple[str, ...]:
    names = _KEYS.get(table)
    if names is None:
        names = _KEYS[table] = tuple(c.name for c in table.primary_key.columns)
    return names


def _check_columns(table: Table, names: Iterable[str]) -> None:
    unknown = [name for name in names if name not in table.c]
    if unknown:
        raise ValueError(f"{table.name} has no column(s) {', '.join(unknown)}")


def _insert_statement(table: Table, columns: tuple[str, ...]) -> Prepared:
    statement = _INSERTS.get((table, columns))
    if statement is None:
        _check_columns(table, columns)
        statement = _INSERTS[(table, columns)] = Prepared(insert(table).values({c: bindparam(c) for c in columns}))
    return statement


def _update_statement(table: Table, columns: tuple[str, ...]) -> Prepared:
    statement = _UPDATES.get((table, columns))
    if statement is None:
        _check_columns(table, columns)
        statement = _UPDATES[(table, columns)] = Prepared(
            update(table)
            .where(*(c == bindparam(f"k_{c.name}") for c in table.primary_key.columns))
            .values({name: bindparam(f"b_{name}") for name in columns})
        )
    return statement


def _constructor(cls: type, fields: list[str]) -> Any:
    """`__init__(self, <fields>)` writing straight into the instance's dict (fields with a class
    attribute as default may be left out, and must come after those without)."""
    defaults = {name: cls.__dict__[name] for name in fields if name in cls.__dict__}
    seen_default = False
    for name in fields:
        if name in defaults:
            seen_default = True
        elif seen_default:
            raise TypeError(f"{cls.__name__}: field {name} without a default follows one with a default")
    params = ", ".join(f"{name}=__default_{name}" if name in defaults else name for name in fields)
    body = "".join(f"    values[{name!r}] = {name}\n" for name in fields) or "    pass\n"
    namespace = {f"__default_{name}": value for name, value in defaults.items()}
    exec(f"def __init__(self, {params}):\n    values = self.__dict__\n{body}", namespace)  # noqa: S102
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    return init


class TrackedRow:
    """Base of row types. A subclass sets `TABLE` and annotates, as fields, the columns it reads
    and writes: any subset of them, the primary key included if loaded rows are to be updated.
    A field may have a default (`refunded: int = 0`).

    The subclass gets a constructor taking the fields in order, positionally or by name, and a
    repr; it needs no `@dataclass` (whose constructor would pass every field through
    `__setattr__`, three times the cost on the hot path). Rows compare by identity: a unit
    tracks row objects."""

    TABLE: ClassVar[Table]
    COLUMNS: ClassVar[tuple[str, ...]]  # the fields, in the table's column order
    KEY: ClassVar[tuple[str, ...]]  # the primary key's columns
    _FIELDS: ClassVar[frozenset[str]]
    _KEY_SET: ClassVar[frozenset[str]]
    _UPDATABLE: ClassVar[bool]  # has its primary key among its fields
    # Columns assigned since the row was loaded (or last flushed); None while it is not tracked.
    # The class attribute answers for rows that never were: the hot path needs no check for it.
    _changes: set[str] | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        table = getattr(cls, "TABLE", None)
        if table is None:
            return
        own = cls.__dict__.get("__annotations__", {})
        fields = [name for name, kind in own.items() if "ClassVar" not in str(kind)]
        strangers = [name for name in fields if name not in table.c]
        if strangers:
            raise TypeError(f"{cls.__name__}: {', '.join(strangers)} not column(s) of {table.name}")
        cls.COLUMNS = tuple(c.name for c in table.columns if c.name in fields)
        cls.KEY = tuple(c.name for c in table.primary_key.columns)
        cls._FIELDS = frozenset(fields)
        cls._KEY_SET = frozenset(cls.KEY)
        cls._UPDATABLE = cls._KEY_SET <= cls._FIELDS
        cls.__init__ = _constructor(cls, fields)  # type: ignore[method-assign]

    def __repr__(self) -> str:
        values = ", ".join(f"{name}={self.__dict__.get(name)!r}" for name in self.COLUMNS)
        return f"{type(self).__name__}({values})"

    def __setattr__(self, name: str, value: Any) -> None:
        # Writes to __dict__ directly: half the cost of object.__setattr__.
        changes = self._changes
        if changes is None:
            if name in self._FIELDS:
                self.__dict__[name] = value
                return
        elif name in self._FIELDS:
            if name in self._KEY_SET:
                raise AttributeError(f"{type(self).__name__}.{name} is its primary key: a loaded row keeps it")
            changes.add(name)
            self.__dict__[name] = value
            return
        raise AttributeError(f"{type(self).__name__} has no column {name!r}")

    @classmethod
    def from_mapping(cls: type[R], mapping: Mapping[str, Any], prefix: str = "") -> R:
        """A row from a result row's mapping (columns named `prefix` + field), not yet tracked."""
        row = cls.__new__(cls)
        values = row.__dict__  # filled directly: no change to record, and it is the hot path
        if prefix:
            for name in cls.COLUMNS:
                values[name] = mapping[prefix + name]
        else:
            for name in cls.COLUMNS:
                values[name] = mapping[name]
        return row

    def values(self) -> dict[str, Any]:
        values = self.__dict__
        return {name: values[name] for name in self.COLUMNS}

    def key(self) -> dict[str, Any]:
        values = self.__dict__
        return {name: values[name] for name in self.KEY}


class Unit(Executor):
    """Reads and buffered writes of one transaction on `connection`, at one instant `now`.

    `insert_order` lists the tables rows may be inserted into, referenced tables first."""

    def __init__(
        self, connection: AsyncConnection, now: datetime, *, insert_order: Sequence[Table], use_driver: bool = True
    ) -> None:
        super().__init__(connection, use_driver=use_driver)
        self.now = now
        self._order = tuple(insert_order)
        self._insertable = frozenset(self._order)
        self._inserts: dict[Table, list[dict[str, Any]]] = {}
        # (table, primary key values) -> columns to set; several updates of one row coalesce.
        self._updates: dict[tuple[Table, tuple[Any, ...]], dict[str, Any]] = {}
        self._new_rows: list[TrackedRow] = []
        self._tracked: list[TrackedRow] = []

    # --- rows ---------------------------------------------------------------------------------

    def add(self, row: R) -> R:
        """A new row, inserted at the flush with the values it has then (tracked after that)."""
        if row.TABLE not in self._insertable:
            raise ValueError(f"{row.TABLE.name} has no place in this unit's insert order")
        self._new_rows.append(row)
        return row

    def attach(self, row: R) -> R:
        """Tracks a row that exists in the database: its assigned fields are written at the flush."""
        if row._changes is None:
            if not row._UPDATABLE:
                raise TypeError(f"{type(row).__name__} lacks its primary key: it cannot be updated")
            object.__setattr__(row, "_changes", set())
            self._tracked.append(row)
        return row

    def load(self, row_type: type[R], mapping: Mapping[str, Any], prefix: str = "") -> R:
        """A tracked row from a result row's mapping (see `TrackedRow.from_mapping`)."""
        return self.attach(row_type.from_mapping(mapping, prefix))

    async def fetch(
        self, row_type: type[R], statement: Executable | Prepared, params: Mapping[str, Any] | None = None
    ) -> list[R]:
        """Runs a query selecting (at least) the row type's columns; its rows, tracked."""
        return [self.load(row_type, row._mapping) for row in await self.execute(statement, params)]

    def is_changed(self, row: TrackedRow) -> bool:
        """Whether a tracked row has assignments not yet flushed."""
        return bool(row._changes)

    def tracked(self, row_type: type[R]) -> list[R]:
        """The unit's tracked rows of a type (loaded, or added and flushed), in the order it met them."""
        return [row for row in self._tracked if type(row) is row_type]  # type: ignore[misc]

    # --- plain writes (rows without a row type) --------------------------------------------------

    def insert(self, table: Table, values: Mapping[str, Any]) -> None:
        if table not in self._insertable:
            raise ValueError(f"{table.name} has no place in this unit's insert order")
        self._inserts.setdefault(table, []).append(dict(values))

    def update(self, table: Table, key: Mapping[str, Any], values: Mapping[str, Any]) -> None:
        """Sets `values` on the existing row whose primary key is `key`."""
        pk = tuple(key[name] for name in _key_of(table))
        self._updates.setdefault((table, pk), {}).update(values)

    # --- flushing ------------------------------------------------------------------------------

    async def finish(self) -> None:
        """What an operation's work is followed by: the flush (subclasses add their own last writes)."""
        await self.flush()

    async def flush(self) -> None:
        """Writes every buffered insert (in `insert_order`), then every update, a shape at a time."""
        new_rows, self._new_rows = self._new_rows, []
        inserts, self._inserts = self._inserts, {}
        for row in new_rows:
            inserts.setdefault(row.TABLE, []).append(row.values())
        for row in self._tracked:
            changes = row._changes
            if changes:
                current = row.__dict__
                self.update(row.TABLE, row.key(), {name: current[name] for name in changes})
                changes.clear()
        for row in new_rows:  # inserted now: later assignments are updates
            if row._UPDATABLE:
                object.__setattr__(row, "_changes", set())
                self._tracked.append(row)

        for table in self._order:
            by_shape: dict[tuple[str, ...], list[dict[str, Any]]] = {}
            for values in inserts.get(table, ()):
                by_shape.setdefault(tuple(values), []).append(values)
            for columns, rows in by_shape.items():
                await self.execute_many(_insert_statement(table, columns), rows)
        updates, self._updates = self._updates, {}
        grouped: dict[tuple[Table, tuple[str, ...]], list[dict[str, Any]]] = {}
        for (table, pk), values in updates.items():
            columns = tuple(sorted(values))
            params = {f"b_{name}": value for name, value in values.items()}
            for name, value in zip(_key_of(table), pk):
                params[f"k_{name}"] = value
            grouped.setdefault((table, columns), []).append(params)
        for (table, columns), params in grouped.items():
            await self.execute_many(_update_statement(table, columns), params)
