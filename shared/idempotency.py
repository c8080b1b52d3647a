"""Idempotency keys for mutations that move value.

`run_idempotent` stores (scope, key) → (fingerprint of the input, the answer) in the service's own
schema, in the same transaction as the work. A replay with the same input gets the stored answer
and changes nothing; the same key with other input gets `IDEMPOTENCY_KEY_REUSED`. Concurrent
requests with one key serialise on the key's unique index, so exactly one does the work.

A request that fails with a domain error writes nothing, the key included: the caller may retry it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from sqlalchemy import Column, DateTime, MetaData, String, Table, func, select
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.errors import IdempotencyKeyReused, InvalidInput

MAX_KEY_LENGTH = 200


def idempotency_table(metadata: MetaData, schema: str) -> Table:
    return Table(
        "idempotency_keys",
        metadata,
        Column("scope", String(100), primary_key=True),
        Column("key", String(MAX_KEY_LENGTH), primary_key=True),
        Column("fingerprint", String(64), nullable=False),
        Column("response", JSONB, nullable=True),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        schema=schema,
    )


def fingerprint(request: Any) -> str:
    """A stable hash of the input (keys sorted; UUIDs, datetimes and enums serialised)."""
    return hashlib.sha256(orjson.dumps(request, option=orjson.OPT_SORT_KEYS, default=str)).hexdigest()


def check_key(key: str) -> str:
    if not key or not key.strip():
        raise InvalidInput("idempotencyKey must not be empty", field="idempotencyKey")
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidInput(f"idempotencyKey is longer than {MAX_KEY_LENGTH} characters", field="idempotencyKey")
    return key


async def run_idempotent(
    session: AsyncSession,
    table: Table,
    *,
    scope: str,
    key: str,
    request: Any,
    work: Callable[[], Awaitable[dict[str, Any]]],
) -> dict[str, Any]:
    """Runs `work` once per (scope, key) inside the caller's transaction and returns its JSON answer.

    `scope` separates operations (and callers: include the caller's id when keys are per caller)."""
    check_key(key)
    print_ = fingerprint(request)
    inserted = await session.exec(
        insert(table)
        .values(scope=scope, key=key, fingerprint=print_)
        .on_conflict_do_nothing()
        .returning(table.c.key)
    )
    if inserted.first() is None:
        row = (
            await session.exec(
                select(table.c.fingerprint, table.c.response).where(table.c.scope == scope, table.c.key == key)
            )
        ).one()
        if row.fingerprint != print_:
            raise IdempotencyKeyReused(
                "this idempotency key was used with a different input", idempotencyKey=key
            )
        return row.response
    response = await work()
    await session.exec(
        table.update().where(table.c.scope == scope, table.c.key == key).values(response=response)
    )
    return response
