"""Subscribers that live in the producing process: the dispatcher hands them their batches instead
of POSTing them, with the same leases, retries and dead letters as remote subscribers."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence

from shared.database import Database
from shared.events.event import Claimed, Event

log = logging.getLogger("abg.events")

# Takes one subscriber's batch (with the producer's database); answers event id -> None (taken) or
# the error. Must be idempotent by event id: a crash between handing over and recording the outcome
# hands the batch over again.
LocalSubscriber = Callable[[Database, Sequence[Event]], Awaitable[Mapping[uuid.UUID, str | None]]]


async def hand_over(take: LocalSubscriber, db: Database, batch: Sequence[Claimed]) -> dict[object, str | None]:
    """Gives a batch to an in-process subscriber; an exception fails the whole batch (retried)."""
    try:
        answer = await take(db, [row.event for row in batch])
    except Exception as exc:  # noqa: BLE001 - recorded as the attempt's error, retried later
        log.exception("local subscriber %s failed", batch[0].subscriber)
        error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        return {row.event.id: error for row in batch}
    return {row.event.id: answer.get(row.event.id, "not acknowledged by the subscriber") for row in batch}
