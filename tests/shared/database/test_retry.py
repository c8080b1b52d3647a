"""The one retry: a real serialization failure between two SERIALIZABLE transactions is retried
whole, whether it reaches us through an ORM session, a Core connection, or a statement run on the
asyncpg driver (the driver's own error, not wrapped by SQLAlchemy)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import pytest
from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.database import Executor, Prepared, backoff, is_retryable, retrying
from shared.errors import InsufficientPoints

Count = Callable[[], Awaitable[int]]
Add = Callable[[dict[str, Any]], Awaitable[None]]


class Skew:
    """Write skew, the textbook serialization failure: each transaction counts the items, then adds
    one saying what it counted. Serially, the second sees the first's item; here both first
    attempts count before either writes, so PostgreSQL must abort one of them (SQLSTATE 40001).
    The second waits for the first to commit before writing, so the failure surfaces on its write."""

    def __init__(self) -> None:
        self.counted = [asyncio.Event(), asyncio.Event()]
        self.first_committed = asyncio.Event()
        self.attempts = [0, 0]
        self.failures: list[BaseException] = []

    async def run(self, me: int, count: Count, add: Add) -> None:
        self.attempts[me] += 1
        try:
            seen = await count()
            if self.attempts[me] == 1:
                self.counted[me].set()
                await asyncio.wait_for(self.counted[1 - me].wait(), 10)
                if me == 1:
                    await asyncio.wait_for(self.first_committed.wait(), 10)
            await add({"id": 10 * me + self.attempts[me], "note": f"{me} saw {seen}"})
        except Exception as error:
            self.failures.append(error)
            raise


async def _run_both(transaction: Callable[[int], Awaitable[None]], skew: Skew) -> None:
    async def first() -> None:
        try:
            await transaction(0)
        finally:
            skew.first_committed.set()

    await asyncio.gather(first(), transaction(1))


@pytest.mark.parametrize("way", ["orm session", "core connection", "driver statements"])
async def test_a_real_serialization_failure_is_retried_whole(schema, way: str) -> None:  # noqa: ANN001
    items, skew = schema.items, Skew()
    count = select(func.count().label("n")).select_from(items)
    prepared_count = Prepared(count)
    prepared_add = Prepared(insert(items).values(id=bindparam("id"), note=bindparam("note")))

    async def transaction(me: int) -> None:
        if way == "orm session":

            async def work(session) -> None:  # noqa: ANN001
                async def add(values: dict[str, Any]) -> None:
                    await session.exec(insert(items).values(values))

                await skew.run(me, lambda: _scalar(session.exec(count)), add)

            await schema.db.run_transaction(work, isolation_level="SERIALIZABLE")
        elif way == "core connection":

            async def work(connection: AsyncConnection) -> None:  # type: ignore[misc]
                async def add(values: dict[str, Any]) -> None:
                    await connection.execute(insert(items).values(values))

                await skew.run(me, lambda: _scalar(connection.execute(count)), add)

            await schema.db.run_core_transaction(work, isolation_level="SERIALIZABLE")
        else:

            async def work(connection: AsyncConnection) -> None:  # type: ignore[misc]
                executor = Executor(connection)
                await executor.execute(Prepared(select(1)))  # SQLAlchemy begins; the rest runs on the driver

                async def count_() -> int:
                    return (await executor.execute(prepared_count)).one().n

                async def add(values: dict[str, Any]) -> None:
                    await executor.execute(prepared_add, values)

                await skew.run(me, count_, add)

            await schema.db.run_core_transaction(work, isolation_level="SERIALIZABLE")

    await _run_both(transaction, skew)
    assert skew.attempts == [1, 2]  # the second was aborted and run again, once
    (failure,) = skew.failures
    assert is_retryable(failure)
    if way == "driver statements":
        assert isinstance(failure, asyncpg.SerializationError)  # the driver's own error, unwrapped
    else:
        assert isinstance(failure, DBAPIError)
    async with schema.db.engine.connect() as connection:
        notes = sorted((await connection.execute(select(items.c.note))).scalars())
    assert notes == ["0 saw 0", "1 saw 1"]  # as if run one after the other


async def _scalar(result: Awaitable[Any]) -> int:
    return (await result).scalar_one()


async def test_other_errors_are_not_retried(schema) -> None:  # noqa: ANN001
    attempts = 0

    async def work(connection: AsyncConnection) -> None:
        nonlocal attempts
        attempts += 1
        await connection.execute(insert(schema.items).values(id=1, note="a"))
        raise InsufficientPoints("a domain error rolls back and propagates")

    with pytest.raises(InsufficientPoints):
        await schema.db.run_core_transaction(work)
    assert attempts == 1
    async with schema.db.engine.connect() as connection:
        assert (await connection.execute(select(func.count()).select_from(schema.items))).scalar_one() == 0


async def test_retrying_gives_up_after_its_attempts() -> None:
    calls = 0

    async def always_deadlocked() -> None:
        nonlocal calls
        calls += 1
        raise asyncpg.DeadlockDetectedError("deadlock detected")

    with pytest.raises(asyncpg.DeadlockDetectedError):
        await retrying(always_deadlocked, attempts=3)
    assert calls == 3


def test_what_counts_as_retryable() -> None:
    assert is_retryable(asyncpg.SerializationError("x")) and is_retryable(asyncpg.DeadlockDetectedError("x"))
    assert not is_retryable(asyncpg.UniqueViolationError("x"))
    assert not is_retryable(ValueError("x"))
    for attempt in range(1, 9):
        assert 0 <= backoff(attempt) <= 0.005 * 2**attempt
