"""The unit of work: buffered inserts a table at a time in their order, updates coalesced per row,
and typed change tracking (an assigned field is written without being named again)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.database import Prepared, TrackedRow, Unit
from shared.timeutil import utcnow


def row_types(schema):  # type: ignore[no-untyped-def]  # noqa: ANN001, ANN201
    """Row types over this test's tables (their schema is made per test)."""

    class Item(TrackedRow):
        TABLE = schema.items

        id: int
        note: str
        count: int

    class Line(TrackedRow):
        TABLE = schema.lines

        item_id: int
        number: int
        amount: int

    return Item, Line


class CountingUnit(Unit):
    """Records each batch the flush sends: (insert or update, which table, how many rows)."""

    def __init__(self, connection: AsyncConnection, schema) -> None:  # noqa: ANN001
        super().__init__(connection, utcnow(), insert_order=[schema.items, schema.lines])
        self.batches: list[tuple[str, str, int]] = []

    async def execute_many(self, statement: Prepared, params: Sequence[Mapping[str, Any]]) -> None:
        self.batches.append((statement.statement.__visit_name__, statement.statement.table.name, len(params)))  # type: ignore[attr-defined]
        await super().execute_many(statement, params)


async def _items(schema) -> list[tuple]:  # noqa: ANN001
    async with schema.db.engine.connect() as connection:
        return [tuple(r) for r in await connection.execute(select(schema.items.c.id, schema.items.c.note, schema.items.c.count).order_by(schema.items.c.id))]


async def _seed(schema, *rows: tuple[int, str, int]) -> None:  # noqa: ANN001
    async with schema.db.engine.begin() as connection:
        await connection.execute(schema.items.insert(), [{"id": i, "note": n, "count": c} for i, n, c in rows])


async def test_every_assigned_field_is_written_without_naming_it_again(schema) -> None:  # noqa: ANN001
    """The old unit wrote only the fields named to `unit.changed(row, "note", ...)`: a name left
    out dropped that write without a sound. Assignment is the record now."""
    Item, _ = row_types(schema)
    await _seed(schema, (1, "old", 0), (2, "untouched", 5))
    async with schema.db.engine.begin() as connection:
        unit = CountingUnit(connection, schema)
        first, second = await unit.fetch(Item, select(schema.items).order_by(schema.items.c.id))
        first.note = "new"
        first.count += 3  # two fields assigned, neither named anywhere else
        assert unit.is_changed(first) and not unit.is_changed(second)
        await unit.flush()
        assert not unit.is_changed(first)
    assert await _items(schema) == [(1, "new", 3), (2, "untouched", 5)]
    assert unit.batches == [("update", "items", 1)]  # the untouched row wrote nothing


async def test_a_misspelt_or_stray_field_fails_loudly(schema) -> None:  # noqa: ANN001
    Item, _ = row_types(schema)
    await _seed(schema, (1, "a", 0))
    async with schema.db.engine.begin() as connection:
        unit = CountingUnit(connection, schema)
        (item,) = await unit.fetch(Item, select(schema.items))
        with pytest.raises(AttributeError, match="no column 'cuont'"):
            item.cuont = 1  # type: ignore[attr-defined]
        with pytest.raises(AttributeError, match="primary key"):
            item.id = 2
        with pytest.raises(AttributeError, match="no column"):
            Item(id=3, note="n", count=0).nte = "x"  # type: ignore[attr-defined]
    with pytest.raises(TypeError, match="not column"):

        class Stray(TrackedRow):
            TABLE = schema.items

            id: int
            colour: str


async def test_inserts_go_a_table_at_a_time_in_order_and_updates_coalesce(schema) -> None:  # noqa: ANN001
    Item, Line = row_types(schema)
    await _seed(schema, (1, "one", 0), (2, "two", 0))
    async with schema.db.engine.begin() as connection:
        unit = CountingUnit(connection, schema)
        # Lines first: they reference items, and the unit's insert order puts items before them.
        unit.add(Line(item_id=10, number=1, amount=5))
        unit.add(Line(item_id=11, number=1, amount=6))
        for i in (10, 11, 12):
            unit.add(Item(id=i, note=f"new {i}", count=0))
        # Several updates of one row make one; rows updated in the same columns go together.
        unit.update(schema.items, {"id": 1}, {"count": 1})
        unit.update(schema.items, {"id": 1}, {"count": 2, "note": "one!"})
        unit.update(schema.items, {"id": 2}, {"note": "two!", "count": 7})
        await unit.flush()
    assert unit.batches == [("insert", "items", 3), ("insert", "lines", 2), ("update", "items", 2)]
    assert await _items(schema) == [(1, "one!", 2), (2, "two!", 7), (10, "new 10", 0), (11, "new 11", 0), (12, "new 12", 0)]


async def test_a_new_row_is_inserted_with_its_final_values_then_tracked(schema) -> None:  # noqa: ANN001
    Item, _ = row_types(schema)
    async with schema.db.engine.begin() as connection:
        unit = CountingUnit(connection, schema)
        item = unit.add(Item(id=1, note="draft", count=0))
        item.note = "final"  # before the flush: part of the insert
        assert not unit.is_changed(item)
        await unit.flush()
        item.count = 9  # after it: an update
        assert unit.is_changed(item)
        await unit.finish()
    assert unit.batches == [("insert", "items", 1), ("update", "items", 1)]
    assert await _items(schema) == [(1, "final", 9)]


async def test_rows_load_from_prefixed_columns_of_a_join(schema) -> None:  # noqa: ANN001
    Item, Line = row_types(schema)
    await _seed(schema, (1, "a", 0))
    async with schema.db.engine.begin() as connection:
        await connection.execute(schema.lines.insert().values(item_id=1, number=1, amount=4))
        i, l = schema.items, schema.lines
        joined = Prepared(
            select(*(i.c[n].label(f"i_{n}") for n in Item.COLUMNS), *(l.c[n].label(f"l_{n}") for n in Line.COLUMNS))
            .select_from(i.join(l, l.c.item_id == i.c.id))
            .where(i.c.id == bindparam("id"))
        )
        unit = CountingUnit(connection, schema)
        await unit.execute(Prepared(select(1)))
        (row,) = await unit.execute(joined, {"id": 1})
        item, line = unit.load(Item, row._mapping, "i_"), unit.load(Line, row._mapping, "l_")
        line.amount += 1
        await unit.flush()
        amount = (await connection.execute(select(l.c.amount))).scalar_one()
    assert (item.note, line.amount, amount) == ("a", 5, 5)
    assert unit.batches == [("update", "lines", 1)]


def test_row_types_get_a_constructor_with_defaults_and_a_repr(schema) -> None:  # noqa: ANN001
    class Line(TrackedRow):
        TABLE = schema.lines

        item_id: int
        number: int
        amount: int = 0

    by_position, by_name = Line(1, 2, 3), Line(item_id=1, number=2)
    assert (by_position.amount, by_name.amount, by_name.values()) == (3, 0, {"item_id": 1, "number": 2, "amount": 0})
    assert repr(by_position) == "Line(item_id=1, number=2, amount=3)"
    assert by_position != Line(1, 2, 3)  # rows are objects a unit tracks: identity, not value
    with pytest.raises(TypeError):
        Line(1)
    with pytest.raises(TypeError, match="without a default follows"):

        class Misordered(TrackedRow):
            TABLE = schema.lines

            item_id: int = 0
            number: int


async def test_a_row_type_without_its_primary_key_can_be_inserted_not_tracked(schema) -> None:  # noqa: ANN001
    class Note(TrackedRow):
        TABLE = schema.items

        note: str
        count: int

    async with schema.db.engine.begin() as connection:
        unit = CountingUnit(connection, schema)
        with pytest.raises(TypeError, match="primary key"):
            unit.attach(Note(note="x", count=0))
