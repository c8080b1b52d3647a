"""Scheduled jobs: vest pending lots, expire lots, release expired holds, announce expiring points.

Each job is a service-layer operation run as points itself (`access.SYSTEM`); the ledger records
it as `job`. Every run is idempotent (a run that finds nothing due changes nothing), so the service
runs them every `job_interval_seconds` and operators may run one at once through GraphQL.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from dataclasses import dataclass
from datetime import datetime

from services.points import access
from services.points.audit import checkpoints
from services.points.config import get_points_settings
from services.points.ledger import service as ledger
from services.points.spending import service as spending
from shared.auth import Principal
from shared.database import Database
from shared.timeutil import utcnow

log = logging.getLogger("abg.points.jobs")


class Job(str, enum.Enum):
    VEST = "VEST"
    EXPIRE = "EXPIRE"
    RELEASE_EXPIRED_HOLDS = "RELEASE_EXPIRED_HOLDS"
    EXPIRY_NOTICES = "EXPIRY_NOTICES"
    CLOSE_ERASED_ACCOUNTS = "CLOSE_ERASED_ACCOUNTS"


@dataclass
class JobResult:
    job: Job
    members: int = 0
    lots: int = 0
    holds: int = 0
    points: int = 0
    events: int = 0


async def run_vesting(db: Database, *, now: datetime | None = None, principal: Principal = access.SYSTEM) -> JobResult:
    done = await ledger.vest_due_lots(db, principal, now=now)
    return JobResult(Job.VEST, members=done.members, lots=done.lots, points=done.points)


async def run_expiry(db: Database, *, now: datetime | None = None, principal: Principal = access.SYSTEM) -> JobResult:
    done = await ledger.expire_due_lots(db, principal, now=now)
    return JobResult(Job.EXPIRE, members=done.members, lots=done.lots, points=done.points)


async def run_hold_expiry(db: Database, *, now: datetime | None = None, principal: Principal = access.SYSTEM) -> JobResult:
    holds, points = await spending.release_expired_holds(db, principal, now=now)
    return JobResult(Job.RELEASE_EXPIRED_HOLDS, holds=holds, points=points)


async def run_expiry_notices(db: Database, *, now: datetime | None = None, principal: Principal = access.SYSTEM) -> JobResult:
    lots, events = await ledger.announce_expiring(db, principal, now=now)
    return JobResult(Job.EXPIRY_NOTICES, lots=lots, events=events)


async def run_closing(db: Database, *, now: datetime | None = None, principal: Principal = access.SYSTEM) -> JobResult:
    done = await ledger.close_erased_accounts(db, principal, now=now)
    return JobResult(Job.CLOSE_ERASED_ACCOUNTS, members=done.members, lots=done.lots, points=done.points)


RUNNERS = {
    Job.VEST: run_vesting,
    Job.EXPIRE: run_expiry,
    Job.RELEASE_EXPIRED_HOLDS: run_hold_expiry,
    Job.EXPIRY_NOTICES: run_expiry_notices,
    Job.CLOSE_ERASED_ACCOUNTS: run_closing,
}


async def run_job(db: Database, principal: Principal, job: Job, *, now: datetime | None = None) -> JobResult:
    """Runs one job now (operators; and points itself)."""
    access.require_operator_or_system(principal)
    return await RUNNERS[job](db, now=now, principal=principal)


async def run_all(db: Database, *, now: datetime | None = None) -> list[JobResult]:
    """In an order that makes sense within one run: holds back first, then vest, then expire,
    then close erased members' accounts."""
    now = now or utcnow()
    order = (Job.RELEASE_EXPIRED_HOLDS, Job.VEST, Job.EXPIRE, Job.CLOSE_ERASED_ACCOUNTS, Job.EXPIRY_NOTICES)
    return [await run_job(db, access.SYSTEM, job, now=now) for job in order]


async def jobs_loop(db: Database) -> None:
    """The background loop of the points app."""
    while True:
        interval = get_points_settings().job_interval_seconds
        if interval <= 0:
            return
        try:
            for result in await run_all(db):
                if result.lots or result.holds:
                    log.info("points job %s: %s", result.job.value, result)
        except Exception:  # keep the schedule; the next run retries whatever is still due
            log.exception("points jobs failed")
        try:
            await checkpoints.take_if_due(db)
        except Exception:  # e.g. an unwritable directory; the jobs above must go on regardless
            log.exception("points ledger checkpoint failed")
        await asyncio.sleep(interval)
