"""Prepared statements on the driver: compiled once, JSON binds serialised, constants carried,
results read like SQLAlchemy's, and all of it inside SQLAlchemy's transaction."""

from __future__ import annotations

import pytest
from sqlalchemy import bindparam, insert, select, update

from sent_statements import sent_statements
from shared.database import Executor, Prepared, Rows


async def test_json_binds_and_constants_on_the_driver(schema) -> None:  # noqa: ANN001
    items = schema.items
    add = Prepared(insert(items).values(id=bindparam("id"), note=bindparam("note"), data=bindparam("data")))
    # `count > 0` and the limit are the statement's own values, not the caller's parameters.
    big = Prepared(select(items.c.id, items.c.data).where(items.c.count > 0, items.c.note == bindparam("note")).order_by(items.c.id).limit(2))
    async with schema.db.engine.begin() as connection:
        executor = Executor(connection)
        await executor.execute(Prepared(select(1)))  # SQLAlchemy opens the transaction
        await executor.execute_many(
            add,
            [
                {"id": 1, "note": "n", "data": {"tags": ["a", "b"], "n": 1}},
                {"id": 2, "note": "n", "data": None},
                {"id": 3, "note": "n", "data": [1, "two"]},
                {"id": 4, "note": "other", "data": {"x": True}},
            ],
        )
        await executor.execute(Prepared(update(items).values(count=items.c.count + 1)))
        rows = await executor.execute(big, {"note": "n"})
    assert isinstance(rows, Rows)  # ran on the driver
    assert [(row.id, row.data) for row in rows] == [(1, {"tags": ["a", "b"], "n": 1}), (2, None)]
    assert big.compiled().constants == {"count_1": 0, "param_1": 2}
    async with schema.db.engine.connect() as connection:
        stored = dict((await connection.execute(select(items.c.id, items.c.data))).all())
    assert stored == {1: {"tags": ["a", "b"], "n": 1}, 2: None, 3: [1, "two"], 4: {"x": True}}  # JSON, not strings


async def test_driver_statements_commit_and_roll_back_with_the_transaction(schema) -> None:  # noqa: ANN001
    add = Prepared(insert(schema.items).values(id=bindparam("id"), note=bindparam("note")))
    with pytest.raises(RuntimeError):
        async with schema.db.engine.begin() as connection:
            executor = Executor(connection)
            first = await executor.execute(add, {"id": 1, "note": "through SQLAlchemy: it begins"})
            second = await executor.execute(add, {"id": 2, "note": "on the driver"})
            assert not isinstance(first, Rows) and isinstance(second, Rows)
            raise RuntimeError("roll back")
    async with schema.db.engine.connect() as connection:
        assert (await connection.execute(select(schema.items.c.id))).all() == []


async def test_rows_read_like_sqlalchemy_rows(schema) -> None:  # noqa: ANN001
    async with schema.db.engine.begin() as connection:
        executor = Executor(connection)
        await executor.execute(Prepared(select(1)))
        await executor.execute(Prepared(insert(schema.items).values(id=7, note="seven")))
        rows = await executor.execute(Prepared(select(schema.items.c.id, schema.items.c.note)))
        empty = await executor.execute(Prepared(select(schema.items.c.id).where(schema.items.c.id < 0)))
    row = rows.one()
    assert (row.id, row.note, row._mapping["note"], len(rows), rows.first().id) == (7, "seven", "seven", 1, 7)
    with pytest.raises(AttributeError):
        row.missing  # noqa: B018
    assert empty.first() is None and empty.all() == []
    with pytest.raises(LookupError):
        empty.one()


async def test_without_the_driver_everything_runs_through_sqlalchemy(schema) -> None:  # noqa: ANN001
    async with schema.db.engine.begin() as connection:
        executor = Executor(connection, use_driver=False)
        await executor.execute(Prepared(select(1)))
        result = await executor.execute(Prepared(select(1)))
    assert not isinstance(result, Rows) and result.scalar_one() == 1


async def test_a_read_runs_on_the_driver_outside_any_transaction(schema) -> None:  # noqa: ANN001
    async with schema.db.engine.begin() as connection:
        await connection.execute(insert(schema.items).values(id=7, note="seven"))
    async with sent_statements(schema.db.engine) as sent:
        rows = await schema.db.read(Prepared(select(schema.items.c.note).where(schema.items.c.id == bindparam("id"))), {"id": 7})
    assert isinstance(rows, Rows) and [row.note for row in rows] == ["seven"]
    assert [q for q in sent if "items" in q] and not [q for q in sent if q.split()[0].rstrip(";").upper() in {"BEGIN", "ROLLBACK", "COMMIT"}], sent
