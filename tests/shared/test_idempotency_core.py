"""The same idempotency rules on a Core connection, and through an executor of the caller's own."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Executable

from shared.database import Database, get_database
from shared.errors import IdempotencyKeyReused, InsufficientPoints, InvalidInput
from shared.idempotency import idempotency_statements, idempotency_table, run_idempotent, run_idempotent_with


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


@dataclass(frozen=True)
class Wrapped:
    """A caller's own form of a statement (points wraps them to run on the driver)."""

    statement: Executable


async def _transfer(
    db: Database, keys: Table, effects: Table, key: str, note: str, *, fail: bool = False, wrapped: bool = False
) -> dict:
    async with db.engine.begin() as connection:

        async def work() -> dict:
            row = await connection.execute(effects.insert().values(note=note).returning(effects.c.id))
            await asyncio.sleep(0.01)  # widen the window for concurrent replays
            if fail:
                raise InsufficientPoints("no")
            return {"effect": row.scalar_one(), "note": note}

        if not wrapped:
            return await run_idempotent(connection, keys, scope="transfer", key=key, request={"note": note}, work=work)
        return await run_idempotent_with(
            _executor(connection), idempotency_statements(keys).map(Wrapped),
            scope="transfer", key=key, request={"note": note}, work=work,
        )


def _executor(connection: AsyncConnection):  # noqa: ANN202
    async def execute(statement: Wrapped, params: Mapping[str, Any]) -> Any:
        assert isinstance(statement, Wrapped)
        return await connection.execute(statement.statement, params)  # type: ignore[arg-type]

    return execute


async def _count(db: Database, effects: Table) -> int:
    async with db.engine.connect() as connection:
        return (await connection.execute(select(func.count()).select_from(effects))).scalar_one()


def test_statements_are_built_once_per_table() -> None:
    first, second = idempotency_table(MetaData(), "a"), idempotency_table(MetaData(), "b")
    assert idempotency_statements(first) is idempotency_statements(first)
    assert idempotency_statements(first) is not idempotency_statements(second)


@pytest.mark.parametrize("wrapped", [False, True], ids=["connection", "own executor"])
async def test_replay_reuse_and_failure(env, wrapped: bool) -> None:  # noqa: ANN001
    db, keys, effects = env
    first = await _transfer(db, keys, effects, "k1", "a", wrapped=wrapped)
    assert await _transfer(db, keys, effects, "k1", "a", wrapped=wrapped) == first
    with pytest.raises(IdempotencyKeyReused):
        await _transfer(db, keys, effects, "k1", "b", wrapped=wrapped)
    with pytest.raises(InsufficientPoints):
        await _transfer(db, keys, effects, "k2", "a", fail=True, wrapped=wrapped)
    assert await _count(db, effects) == 1
    assert (await _transfer(db, keys, effects, "k2", "a", wrapped=wrapped))["note"] == "a"


@pytest.mark.parametrize("key", ["", "   ", "x" * 201])
async def test_bad_keys_are_typed_errors(env, key: str) -> None:  # noqa: ANN001
    db, keys, effects = env
    with pytest.raises(InvalidInput):
        await _transfer(db, keys, effects, key, "a")
    assert await _count(db, effects) == 0


@pytest.mark.parametrize("wrapped", [False, True], ids=["connection", "own executor"])
async def test_concurrent_replays_have_one_effect(env, wrapped: bool) -> None:  # noqa: ANN001
    db, keys, effects = env
    answers = await asyncio.gather(*(_transfer(db, keys, effects, "hot", "a", wrapped=wrapped) for _ in range(20)))
    assert await _count(db, effects) == 1
    assert all(answer == answers[0] for answer in answers)
