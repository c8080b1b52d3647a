"""Fixtures for the transaction kit's tests: a throwaway schema with a table of items, a table of
their lines (a second table, to see the insert order), and an idempotency keys table."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from sqlalchemy import Column, ForeignKey, Integer, MetaData, String, Table, text
from sqlalchemy.dialects.postgresql import JSONB

from shared.database import Database
from shared.idempotency import idempotency_table


@dataclass(frozen=True)
class Schema:
    db: Database
    name: str
    items: Table
    lines: Table
    keys: Table


@pytest.fixture
async def schema(database_url: str) -> AsyncIterator[Schema]:
    name = f"kit_{uuid.uuid4().hex[:8]}"
    metadata = MetaData()
    items = Table(
        "items",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=False),
        Column("note", String, nullable=False),
        Column("count", Integer, nullable=False, server_default="0"),
        Column("data", JSONB, nullable=True),
        schema=name,
    )
    lines = Table(
        "lines",
        metadata,
        Column("item_id", Integer, ForeignKey(f"{name}.items.id"), primary_key=True),
        Column("number", Integer, primary_key=True),
        Column("amount", Integer, nullable=False),
        schema=name,
    )
    keys = idempotency_table(metadata, name)
    db = Database(database_url, pool_size=4, max_overflow=4)  # its own engine, disposed here
    async with db.engine.begin() as connection:
        await connection.execute(text(f'CREATE SCHEMA "{name}"'))
        await connection.run_sync(metadata.create_all)
    try:
        yield Schema(db, name, items, lines, keys)
    finally:
        async with db.engine.begin() as connection:
            await connection.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
        await db.dispose()
