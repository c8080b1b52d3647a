"""Operations: a unit of work in one retried transaction, once per idempotency key."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.database import Idempotency, TrackedRow, Unit, run_operation, run_unit
from shared.errors import IdempotencyKeyReused, InsufficientPoints


class Added(BaseModel):
    id: int
    note: str
    at: datetime


def kit(schema):  # type: ignore[no-untyped-def]  # noqa: ANN001, ANN201
    class Item(TrackedRow):
        TABLE = schema.items

        id: int
        note: str
        count: int

    def unit_of(connection: AsyncConnection, now: datetime) -> Unit:
        return Unit(connection, now, insert_order=[schema.items])

    return Item, unit_of


async def _count(schema) -> int:  # noqa: ANN001
    async with schema.db.engine.connect() as connection:
        return (await connection.execute(select(func.count()).select_from(schema.items))).scalar_one()


async def test_an_operation_runs_once_per_key_and_replays_its_first_answer(schema) -> None:  # noqa: ANN001
    Item, unit_of = kit(schema)
    runs = 0

    def add(item_id: int, note: str):  # type: ignore[no-untyped-def]  # noqa: ANN202
        async def work(unit: Unit) -> Added:
            nonlocal runs
            runs += 1
            await asyncio.sleep(0.01)  # widen the window for concurrent replays
            unit.add(Item(id=item_id, note=note, count=0))
            return Added(id=item_id, note=note, at=unit.now)

        return work

    def key(note: str) -> Idempotency:
        return Idempotency(schema.keys, "add:tester", "key-1", {"note": note})

    answers = await asyncio.gather(*(run_operation(schema.db, unit_of, add(1, "a"), Added, idempotency=key("a")) for _ in range(10)))
    assert runs == 1 and all(answer == answers[0] for answer in answers)
    assert await _count(schema) == 1
    with pytest.raises(IdempotencyKeyReused):
        await run_operation(schema.db, unit_of, add(2, "b"), Added, idempotency=key("b"))
    assert await _count(schema) == 1


async def test_a_failed_operation_leaves_nothing_behind_not_even_its_key(schema) -> None:  # noqa: ANN001
    Item, unit_of = kit(schema)

    async def fails(unit: Unit) -> Added:
        unit.add(Item(id=1, note="x", count=0))
        await unit.flush()
        raise InsufficientPoints("after writing")

    key = Idempotency(schema.keys, "add:tester", "retry-me", {"note": "x"})
    with pytest.raises(InsufficientPoints):
        await run_operation(schema.db, unit_of, fails, Added, idempotency=key)
    assert await _count(schema) == 0

    async def works(unit: Unit) -> Added:
        unit.add(Item(id=1, note="x", count=0))
        return Added(id=1, note="x", at=unit.now)

    assert (await run_operation(schema.db, unit_of, works, Added, idempotency=key)).id == 1  # the key is free


async def test_run_unit_finishes_the_unit_and_returns_any_result(schema) -> None:  # noqa: ANN001
    Item, unit_of = kit(schema)

    async def work(unit: Unit) -> tuple[int, str]:
        unit.add(Item(id=5, note="job", count=1))
        return 5, "done"

    assert await run_unit(schema.db, unit_of, work) == (5, "done")
    assert await _count(schema) == 1
