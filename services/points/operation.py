"""Running one ledger operation: a retried database transaction, an idempotency key, a unit of work.

The whole operation (idempotency key, locks, reads, writes) is one transaction, retried whole on
serialization failures and deadlocks as the shared `Database.run_transaction` does. It runs on a
Core connection rather than an ORM session (the session costs about 0.1 ms of CPU per transaction
that the ledger never uses), and the retry also recognises the driver's own errors, since the hot
statements run on the driver (see driver). A domain error rolls everything back, the key
included, so nothing is half-written and the caller may try again.

The idempotency key follows `shared.idempotency`'s rules; its statements are wrapped once as
`Prepared` ones, so they too run on the driver (through the ORM session and built per call they
cost about 0.45 ms per transaction, bench/points_hold_capture.py: close to half of a hold).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncConnection

from services.points.driver import Prepared
from services.points.ledger import LedgerUnit, finish
from services.points.models import IDEMPOTENCY
from shared.database import Database, is_serialization_failure
from shared.idempotency import idempotency_statements, run_idempotent_with
from shared.timeutil import utcnow

A = TypeVar("A", bound=BaseModel)
T = TypeVar("T")

_KEYS = idempotency_statements(IDEMPOTENCY).map(Prepared)


@dataclass(frozen=True, slots=True)
class Idempotency:
    scope: str
    key: str
    request: dict[str, Any]


async def run_operation(
    db: Database,
    work: Callable[[LedgerUnit], Awaitable[A]],
    answer_type: type[A],
    *,
    idempotency: Idempotency | None,
    now: datetime | None = None,
) -> A:
    """Runs `work` in a unit of work and a transaction; with `idempotency`, once per key."""

    async def attempt(connection: AsyncConnection) -> A:
        unit = LedgerUnit(connection, now or utcnow())

        async def once() -> dict[str, Any]:
            answer = await work(unit)
            await finish(unit)
            return answer.to_json()  # type: ignore[attr-defined]

        if idempotency is None:
            return answer_type.model_validate(await once())
        stored = await run_idempotent_with(
            unit.execute, _KEYS, scope=idempotency.scope, key=idempotency.key, request=idempotency.request, work=once
        )
        return answer_type.model_validate(stored)

    return await in_transaction(db, attempt)


async def run_unit(db: Database, work: Callable[[LedgerUnit], Awaitable[T]], *, now: datetime | None = None) -> T:
    """A unit of work with no idempotency key (jobs, event handlers: idempotent by their nature)."""

    async def attempt(connection: AsyncConnection) -> T:
        unit = LedgerUnit(connection, now or utcnow())
        result = await work(unit)
        await finish(unit)
        return result

    return await in_transaction(db, attempt)


_RETRYABLE = {"40001", "40P01"}  # serialization failure, deadlock


def _retryable(error: BaseException) -> bool:
    return is_serialization_failure(error) or getattr(error, "sqlstate", None) in _RETRYABLE


async def in_transaction(db: Database, work: Callable[[AsyncConnection], Awaitable[T]], *, attempts: int = 8) -> T:
    """`work` in one transaction, retried whole with jittered backoff when the database asks."""
    for attempt in range(1, attempts + 1):
        try:
            async with db.engine.begin() as connection:
                return await work(connection)
        except Exception as error:
            if attempt == attempts or not _retryable(error):
                raise
            await asyncio.sleep(random.uniform(0, 0.005 * 2**attempt))
    raise AssertionError("unreachable")
