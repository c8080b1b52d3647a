"""Idempotency keys on real PostgreSQL: replays, reuse with other input, concurrent replays."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, func, select, text

from shared.database import Database, get_database
from shared.errors import IdempotencyKeyReused, InsufficientPoints, InvalidInput
from shared.idempotency import idempotency_table, run_idempotent


@pytest.fixture
async def env(database_url: str) -> AsyncIterator[tuple[Database, Table, Table]]:
    schema = f"idem_{uuid.uuid4().hex[:8]}"
    metadata = MetaData()
    keys = idempotency_table(metadata, schema)
    effects = Table("effects", metadata, Column("id", Integer, primary_key=True), Column("note", String), schema=schema)
    db = get_database(database_url)
    async with db.engine.begin() as connection:
        await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        await connection.run_sync(metadata.create_all)
    yield db, keys, effects
    async with db.engine.begin() as connection:
        await connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


async def _transfer(db: Database, keys: Table, effects: Table, key: str, note: str, fail: bool = False) -> dict:
    async def work_in(session) -> dict:  # noqa: ANN001
        async def work() -> dict:
            row = await session.exec(effects.insert().values(note=note).returning(effects.c.id))
            await asyncio.sleep(0.01)  # widen the window for concurrent replays
            if fail:
                raise InsufficientPoints("no")
            return {"effect": row.scalar_one(), "note": note}

        return await run_idempotent(session, keys, scope="transfer", key=key, request={"note": note}, work=work)

    return await db.run_transaction(work_in)


async def _count(db: Database, effects: Table) -> int:
    async with db.session() as session:
        return (await session.exec(select(func.count()).select_from(effects))).scalar_one()


async def test_replay_returns_the_first_answer_and_changes_nothing(env) -> None:  # noqa: ANN001
    db, keys, effects = env
    first = await _transfer(db, keys, effects, "k1", "a")
    again = await _transfer(db, keys, effects, "k1", "a")
    assert again == first
    assert await _count(db, effects) == 1


async def test_same_key_with_other_input_is_refused(env) -> None:  # noqa: ANN001
    db, keys, effects = env
    await _transfer(db, keys, effects, "k1", "a")
    with pytest.raises(IdempotencyKeyReused):
        await _transfer(db, keys, effects, "k1", "b")
    assert await _count(db, effects) == 1


async def test_keys_are_per_scope_and_a_failure_consumes_no_key(env) -> None:  # noqa: ANN001
    db, keys, effects = env
    with pytest.raises(InsufficientPoints):
        await _transfer(db, keys, effects, "k2", "a", fail=True)
    assert await _count(db, effects) == 0
    assert (await _transfer(db, keys, effects, "k2", "a"))["note"] == "a"


@pytest.mark.parametrize("key", ["", "   ", "x" * 201])
async def test_bad_keys_are_typed_errors(env, key: str) -> None:  # noqa: ANN001
    db, keys, effects = env
    with pytest.raises(InvalidInput):
        await _transfer(db, keys, effects, key, "a")
    assert await _count(db, effects) == 0


async def test_fifty_concurrent_replays_have_one_effect(env) -> None:  # noqa: ANN001
    db, keys, effects = env
    answers = await asyncio.gather(*(_transfer(db, keys, effects, "hot", "a") for _ in range(50)))
    assert await _count(db, effects) == 1
    assert all(answer == answers[0] for answer in answers)
