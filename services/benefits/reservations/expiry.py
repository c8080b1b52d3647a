"""The expiry job: releases reservations past their time, and marks issued codes past their
validity EXPIRED. Idempotent (what it finds due it changes once; a second run finds nothing), in
short transactions of at most `job_batch_size` rows, skipping rows a step holds at that moment.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from datetime import datetime

from services.benefits.codes import store as codes
from services.benefits.config import get_benefits_settings
from services.benefits.reservations import store
from services.benefits.reservations.answers import JobAnswer
from services.benefits.reservations.service import release_locked
from shared.auth.principals import Principal, require_operator
from shared.database import Database
from shared.timeutil import utcnow

log = logging.getLogger("abg.benefits.jobs")


class Job(str, enum.Enum):
    RELEASE_EXPIRED_RESERVATIONS = "RELEASE_EXPIRED_RESERVATIONS"
    EXPIRE_CODES = "EXPIRE_CODES"
    ALL = "ALL"


async def release_expired(db: Database, now: datetime | None = None, batch: int | None = None) -> int:
    at, size, total = now or utcnow(), batch or get_benefits_settings().job_batch_size, 0
    while True:
        async def work(session) -> int:  # type: ignore[no-untyped-def]
            due = await store.lock_expired(session, at, size)
            for reservation in due:
                await release_locked(session, reservation, at)
            return len(due)

        done = await db.run_transaction(work)
        total += done
        if done < size:
            return total


async def expire_codes(db: Database, now: datetime | None = None, batch: int | None = None) -> int:
    at, size, total = now or utcnow(), batch or get_benefits_settings().job_batch_size, 0
    while True:
        done = len(await db.run_transaction(lambda session: codes.expire_issued(session, at, size)))
        total += done
        if done < size:
            return total


async def run(db: Database, principal: Principal, job: Job = Job.ALL, now: datetime | None = None) -> JobAnswer:
    """`runBenefitsJob`: an operator runs a job at once (as the background loop does on schedule)."""
    require_operator(principal)
    released = await release_expired(db, now) if job in (Job.ALL, Job.RELEASE_EXPIRED_RESERVATIONS) else 0
    expired = await expire_codes(db, now) if job in (Job.ALL, Job.EXPIRE_CODES) else 0
    return JobAnswer(released_reservations=released, expired_codes=expired)


async def expiry_loop(db: Database) -> None:
    """The background loop (every `job_interval_seconds`; 0 turns it off)."""
    interval = get_benefits_settings().job_interval_seconds
    while interval > 0:
        released, expired = await release_expired(db), await expire_codes(db)
        if released or expired:
            log.info("released %d expired reservations, expired %d codes", released, expired)
        await asyncio.sleep(interval)
