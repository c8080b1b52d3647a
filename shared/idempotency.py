"""Idempotency keys for mutations that move value.

`run_idempotent` stores (scope, key) → (fingerprint of the input, the answer) in the service's own
schema, in the same transaction as the work. A replay with the same input gets the stored answer
and changes nothing; the same key with other input gets `IDEMPOTENCY_KEY_REUSED`. Concurrent
requests with one key serialise on the key's unique index, so exactly one does the work.

A request that fails with a domain error writes nothing, the key included: the caller may retry it.

The three statements are built once per table (`idempotency_statements`): building a SQLAlchemy
statement costs more than running one. `run_idempotent` runs them on an ORM session or a Core
connection; `run_idempotent_with` takes any executor, for callers that run statements their own
way (points runs them on the asyncpg driver, wrapped once with `IdempotencyStatements.map`).
"""

from __future__ import annotations

import hashlib
import weakref
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import orjson
from sqlalchemy import Column, DateTime, MetaData, String, Table, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.ext.asyncio import AsyncSession as CoreAsyncSession
from sqlalchemy.sql import Executable
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.errors import IdempotencyKeyReused, InvalidInput

MAX_KEY_LENGTH = 200

S = TypeVar("S")
T = TypeVar("T")

# Runs one of the statements with its parameters; the result needs `first()` and `one()`, its rows
# `fingerprint` and `response` (a SQLAlchemy result, or anything read the same way).
Execute = Callable[[S, Mapping[str, Any]], Awaitable[Any]]


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


@dataclass(frozen=True, slots=True)
class IdempotencyStatements(Generic[S]):
    """The statements over one keys table, with bound parameters:

    - `claim` (scope, key, fingerprint): inserts the key unless it exists; returns a row if it inserted;
    - `stored` (scope, key): the key's fingerprint and response;
    - `answer` (k_scope, k_key, b_response): stores the response."""

    claim: S
    stored: S
    answer: S

    def map(self, prepare: Callable[[S], T]) -> IdempotencyStatements[T]:
        """The same statements wrapped for another executor (once, not per call)."""
        return IdempotencyStatements(prepare(self.claim), prepare(self.stored), prepare(self.answer))


_STATEMENTS: weakref.WeakKeyDictionary[Table, IdempotencyStatements[Executable]] = weakref.WeakKeyDictionary()


def idempotency_statements(table: Table) -> IdempotencyStatements[Executable]:
    """The statements over `table` (made by `idempotency_table`), built on first use."""
    statements = _STATEMENTS.get(table)
    if statements is None:
        statements = _STATEMENTS[table] = IdempotencyStatements(
            claim=insert(table)
            .values(scope=bindparam("scope"), key=bindparam("key"), fingerprint=bindparam("fingerprint"))
            .on_conflict_do_nothing()
            .returning(table.c.key),
            stored=select(table.c.fingerprint, table.c.response).where(
                table.c.scope == bindparam("scope"), table.c.key == bindparam("key")
            ),
            answer=update(table)
            .where(table.c.scope == bindparam("k_scope"), table.c.key == bindparam("k_key"))
            .values(response=bindparam("b_response")),
        )
    return statements


async def run_idempotent_with(
    execute: Execute[S],
    statements: IdempotencyStatements[S],
    *,
    scope: str,
    key: str,
    request: Any,
    work: Callable[[], Awaitable[dict[str, Any]]],
) -> dict[str, Any]:
    """`run_idempotent` with the statements run by `execute`, in the caller's transaction."""
    check_key(key)
    print_ = fingerprint(request)
    claimed = (await execute(statements.claim, {"scope": scope, "key": key, "fingerprint": print_})).first()
    if claimed is None:
        stored = (await execute(statements.stored, {"scope": scope, "key": key})).one()
        if stored.fingerprint != print_:
            raise IdempotencyKeyReused("this idempotency key was used with a different input", idempotencyKey=key)
        return stored.response
    response = await work()
    await execute(statements.answer, {"k_scope": scope, "k_key": key, "b_response": response})
    return response


def _executor(runner: AsyncSession | CoreAsyncSession | AsyncConnection) -> Execute[Executable]:
    if isinstance(runner, AsyncSession):  # SQLModel's: `exec` (its `execute` is deprecated)

        async def execute(statement: Executable, params: Mapping[str, Any]) -> Any:
            return await runner.exec(statement, params=params)  # type: ignore[call-overload]

        return execute
    return runner.execute  # type: ignore[return-value]


async def run_idempotent(
    session: AsyncSession | CoreAsyncSession | AsyncConnection,
    table: Table,
    *,
    scope: str,
    key: str,
    request: Any,
    work: Callable[[], Awaitable[dict[str, Any]]],
) -> dict[str, Any]:
    """Runs `work` once per (scope, key) inside the caller's transaction and returns its JSON answer.

    `session`: an ORM session or a Core connection, in the transaction. `scope` separates
    operations (and callers: include the caller's id when keys are per caller)."""
    return await run_idempotent_with(
        _executor(session), idempotency_statements(table), scope=scope, key=key, request=request, work=work
    )
