"""Driving a saga: the process holding a redemption's lease does its steps one after another, each
recorded (fenced by the lease) before the next begins.

A step whose outcome is unknown is retried later with the same key (backing off), by this process
or, once the lease ends, by any replica's recovery loop. A step still unknown after
`give_up_after_seconds` is given up: before delivery the saga compensates and fails; a delivery or
capture never is — it goes to NEEDS_ATTENTION for operators. Compensation itself never gives up.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
import uuid
from datetime import timedelta
from typing import Any

from shared.database import Database
from shared.events import publish
from shared.timeutil import utcnow

from services.redemptions.config import get_redemptions_settings
from services.redemptions.models import OUTBOX, Redemption
from services.redemptions.peers.calls import Unknown
from services.redemptions.saga import faults, steps, store

log = logging.getLogger("abg.redemptions.saga")

# Who holds a lease: unique per process run, so a restarted process does not mistake a dead
# run's leases for its own; each drive adds a suffix of its own (`new_lease`).
OWNER = f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def new_lease(owner: str = OWNER) -> str:
    """A lease for one drive: when it runs out under a drive that is still going (a step slower
    than the lease) and another drive takes it over, even one of this process, the first one is
    fenced out at its next write instead of recording the same steps again."""
    return f"{owner}:{uuid.uuid4().hex[:8]}"


def subscribers() -> list[str]:
    return list(get_redemptions_settings().subscribers)


async def drive(db: Database, row: Redemption, owner: str | None = None) -> Redemption:
    """Drives a redemption leased to `owner` (by default the lease it was loaded with) as far as it
    goes now; answers it as it then stands."""
    settings = get_redemptions_settings()
    owner = owner or row.lease_owner or ""
    while row.status == "PENDING" or row.refund_state == "PENDING":
        step = steps.step_of(row)
        started = utcnow()
        try:
            transition = await steps.advance(row, started)
        except Unknown as unknown:
            await _later(db, row, owner, step, unknown)
            return row
        faults.crash_point(step, "called")
        now = utcnow()
        # How long the step's call took, in its timeline entry: where a redemption's time goes.
        timeline = [(name, outcome, {**detail, "ms": round((now - started).total_seconds() * 1000, 1)}) if i == 0 else (name, outcome, detail)
                    for i, (name, outcome, detail) in enumerate(transition.timeline)]
        changes = {**transition.changes}
        if changes.get("lease_owner", owner) is not None:
            changes["lease_until"] = now + timedelta(seconds=settings.lease_seconds)

        async def record(session: Any) -> bool:
            if not await store.record(session, row.id, owner, changes, timeline, now):
                return False
            for type_, payload in transition.events:
                await publish(session, OUTBOX, type=type_, payload={**payload, "occurredAt": now}, subscribers=subscribers())
            return True

        if not await db.run_transaction(record):
            log.warning("redemption %s: lease lost during %s; the drive that took it over goes on", row.id, step)
            return row
        for name, value in changes.items():
            setattr(row, name, value)
        faults.crash_point(step, "recorded")
    return row


async def _later(db: Database, row: Redemption, owner: str, step: str, unknown: Unknown) -> None:
    """An unknown outcome: try again later with the same key, or give up as the step allows."""
    settings = get_redemptions_settings()
    now = utcnow()
    attempts = row.attempts + 1
    waited = (now - row.step_started_at).total_seconds()
    detail = {"service": unknown.service, "reason": unknown.reason, "attempt": attempts}
    changes: dict[str, Any]
    if waited >= settings.give_up_after_seconds and step not in ("RELEASE", "REFUND_POINTS"):
        given_up = f"no answer from {unknown.service} for {int(waited)} s ({unknown.reason})"
        if step in ("HOLD", "RESERVE") or (step == "DELIVER" and row.delivery == "CODE"):
            transition = steps.compensate(row, step, "TIMED_OUT", given_up, reserve_sent=step != "HOLD", detail=detail)
        else:
            transition = steps.attention(row, step, f"outcome unknown: {given_up}", detail)
        changes = {**transition.changes, "next_attempt_at": now, "step_started_at": now}
        changes.setdefault("lease_owner", None)
        changes["lease_until"] = None
        timeline = transition.timeline
    else:
        delay = min(settings.retry_max_seconds, settings.retry_base_seconds * 2 ** min(attempts - 1, 16))
        delay *= 0.5 + random.random() / 2
        changes = {"attempts": attempts, "next_attempt_at": now + timedelta(seconds=delay), "lease_owner": None, "lease_until": None}
        timeline = [(step, "RETRY", {**detail, "retryInSeconds": round(delay, 2)})]
    recorded = await db.run_transaction(lambda session: store.record(session, row.id, owner, changes, timeline, now))
    if recorded:
        for name, value in changes.items():
            setattr(row, name, value)


async def resume_due(db: Database, owner: str = OWNER) -> int:
    """One round of the recovery loop: lease the sagas (and refunds) whose time has come and whose
    lease ran out (`SKIP LOCKED`: replicas take disjoint ones) and drive them concurrently."""
    settings = get_redemptions_settings()
    now = utcnow()

    async def claim(session: Any) -> list[tuple[Redemption, str]]:
        ids = await store.due(session, now, settings.recovery_batch_size)
        # Each lease names the one drive that takes it (see `new_lease`): leased to the process alone,
        # a stale drive of this process would pass the fence and rewind the saga.
        leases = [(i, new_lease(owner)) for i in ids]
        rows = [(await store.take_lease(session, i, lease, now, settings.lease_seconds), lease) for i, lease in leases]
        return [(row, lease) for row, lease in rows if row is not None]

    claimed = await db.run_transaction(claim)
    rows = [row for row, _ in claimed]
    if rows:
        results = await asyncio.gather(*(drive(db, row, lease) for row, lease in claimed), return_exceptions=True)
        for row, result in zip(rows, results):
            if isinstance(result, BaseException):
                log.error("redemption %s: the saga failed unexpectedly: %r", row.id, result)
    return len(rows)


async def recovery_loop(db: Database) -> None:
    """The background loop every replica runs."""
    interval = get_redemptions_settings().recovery_interval_seconds
    if interval <= 0:
        return
    while True:
        try:
            if await resume_due(db) >= get_redemptions_settings().recovery_batch_size:
                continue  # more are waiting
        except Exception:  # noqa: BLE001 - the loop must outlive a bad round (the database restarting, say)
            log.exception("redemptions recovery round failed")
        await asyncio.sleep(interval)
