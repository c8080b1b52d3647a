"""Scheduled jobs: vest pending lots, expire lots, release expired holds, announce expiring points.

Each job finds due work with a plain query, then does it in short transactions of at most
`job_batch_members` members, each re-reading its work under the members' locks: a job racing a
member's own operations or another replica's run of the same job does each piece once. A run
that finds nothing due changes nothing, so running a job again is harmless. The service runs them
every `job_interval_seconds`; operators may run them at once through GraphQL.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, true

from services.points import events, expiry
from services.points.config import get_points_settings
from services.points.credits import vest
from services.points.holds import ACTIVE, release
from services.points.ledger import LedgerUnit, lock_members
from services.points.lots import LotRow, lots_of_members_where
from services.points.models import holds_t, lots_t
from shared.database import Database, run_unit
from shared.errors import Conflict, NotFound
from shared.timeutil import utcnow

log = logging.getLogger("abg.points.jobs")
JOB_ACTOR = "job"


class Job(str, enum.Enum):
    VEST = "VEST"
    EXPIRE = "EXPIRE"
    RELEASE_EXPIRED_HOLDS = "RELEASE_EXPIRED_HOLDS"
    EXPIRY_NOTICES = "EXPIRY_NOTICES"


@dataclass
class JobResult:
    job: Job
    members: int = 0
    lots: int = 0
    holds: int = 0
    points: int = 0
    events: int = 0


async def _due_members(db: Database, *conditions: object, limit: int) -> list[uuid.UUID]:
    async with db.engine.connect() as connection:
        rows = await connection.execute(
            select(lots_t.c.member_id).where(*conditions).group_by(lots_t.c.member_id).limit(limit)  # type: ignore[arg-type]
        )
        return [row.member_id for row in rows]


async def _per_member_lots(
    db: Database, now: datetime, result: JobResult, conditions: tuple, act  # type: ignore[no-untyped-def]
) -> JobResult:
    """Runs `act(unit, state, lot)` on every lot matching `conditions`, a batch of members at a time."""
    batch = get_points_settings().job_batch_members
    while True:
        members = await _due_members(db, *conditions, limit=batch)
        if not members:
            return result

        async def work(unit: LedgerUnit) -> tuple[int, int, int]:
            states = await lock_members(unit, members)
            lots: list[LotRow] = await lots_of_members_where(unit, list(states), *conditions)  # read under the locks
            moved = [act(unit, states[lot.member_id], lot) for lot in lots]
            return len(states), len(lots), sum(p for p in moved if p)

        # Counted once the batch has committed (a retried batch must not count twice).
        members_done, lots_done, points_done = await run_unit(db, LedgerUnit, work, now=now)
        if not lots_done:  # lots due for members with no account: a broken invariant, not a loop
            log.error("points job: lots due for members without accounts: %s", members[:5])
            return result
        result.members += members_done
        result.lots += lots_done
        result.points += points_done


async def run_vesting(db: Database, *, now: datetime | None = None) -> JobResult:
    now = now or utcnow()

    def act(unit: LedgerUnit, state, lot: LotRow) -> int:  # type: ignore[no-untyped-def]
        points = lot.remaining
        vest(unit, state, lot, actor=JOB_ACTOR)
        return points

    conditions = (lots_t.c.vested_at.is_(None), lots_t.c.expired_at.is_(None), lots_t.c.vests_at <= now)
    return await _per_member_lots(db, now, JobResult(Job.VEST), conditions, act)


async def run_expiry(db: Database, *, now: datetime | None = None) -> JobResult:
    now = now or utcnow()

    def act(unit: LedgerUnit, state, lot: LotRow) -> int:  # type: ignore[no-untyped-def]
        points = lot.remaining
        expiry.expire(unit, state, lot, actor=JOB_ACTOR)
        return points

    conditions = (lots_t.c.expired_at.is_(None), lots_t.c.expires_at <= now)
    return await _per_member_lots(db, now, JobResult(Job.EXPIRE), conditions, act)


async def run_hold_expiry(db: Database, *, now: datetime | None = None) -> JobResult:
    """Releases holds past their time limit, one hold per transaction (a capture or release that
    got there first wins, and the job moves on)."""
    now = now or utcnow()
    result = JobResult(Job.RELEASE_EXPIRED_HOLDS)
    batch = get_points_settings().job_batch_members
    seen: set[uuid.UUID] = set()
    while True:
        async with db.engine.connect() as connection:
            rows = await connection.execute(
                select(holds_t.c.id, holds_t.c.amount)
                .where(holds_t.c.status == ACTIVE, holds_t.c.expires_at <= now, holds_t.c.id.not_in(seen) if seen else true())
                .order_by(holds_t.c.expires_at)
                .limit(batch)
            )
            due = rows.all()
        if not due:
            return result
        for hold_id, amount in due:
            seen.add(hold_id)
            if await expire_hold(db, hold_id, now=now):
                result.holds += 1
                result.points += amount


async def expire_hold(db: Database, hold_id: uuid.UUID, *, now: datetime) -> bool:
    """Releases one hold past its time limit; False if a capture or release got there first."""
    try:
        await run_unit(db, LedgerUnit, lambda unit: release(unit, hold_id=hold_id, actor=JOB_ACTOR, expired=True), now=now)
    except (Conflict, NotFound):
        return False
    return True


async def run_expiry_notices(db: Database, *, now: datetime | None = None) -> JobResult:
    now = now or utcnow()
    settings = get_points_settings()
    result = JobResult(Job.EXPIRY_NOTICES)
    while True:
        lots, published = await run_unit(
            db,
            LedgerUnit,
            lambda unit: expiry.announce_expiring(unit, within=timedelta(days=settings.expiry_notice_days), limit=1000),
            now=now,
        )
        if not lots:
            break
        result.lots += lots
        result.events += published
    if result.events:
        events.wake()
    return result


RUNNERS = {
    Job.VEST: run_vesting,
    Job.EXPIRE: run_expiry,
    Job.RELEASE_EXPIRED_HOLDS: run_hold_expiry,
    Job.EXPIRY_NOTICES: run_expiry_notices,
}


async def run_job(db: Database, job: Job, *, now: datetime | None = None) -> JobResult:
    return await RUNNERS[job](db, now=now)


async def run_all(db: Database, *, now: datetime | None = None) -> list[JobResult]:
    """In an order that makes sense within one run: holds back first, then vest, then expire."""
    now = now or utcnow()
    order = (Job.RELEASE_EXPIRED_HOLDS, Job.VEST, Job.EXPIRE, Job.EXPIRY_NOTICES)
    return [await run_job(db, job, now=now) for job in order]


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
        await asyncio.sleep(interval)

