"""Scheduled work: the daily tier review, run by members itself (`access.SYSTEM`).

The review looks at midnight UTC of the current day, so every instance of the service (and every
restart) that runs it on one day asks the same question and, the review being idempotent, gets
the same answer; a finished run for that instant is not repeated.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from shared.database import Database
from shared.timeutil import utcnow

from services.members.access import SYSTEM
from services.members.config import get_members_settings
from services.members.tiers import service as tiers
from services.members.tiers.answers import ReviewSummary

log = logging.getLogger("abg.members.jobs")


def review_instant(now: datetime) -> datetime:
    """The instant the day's review looks at: the start of `now`'s UTC day."""
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


async def run_due_review(db: Database, now: datetime | None = None) -> ReviewSummary | None:
    """Runs the day's review unless a run as of that instant (or later) has finished."""
    as_of = review_instant(now or utcnow())
    last = await tiers.last_review(db, SYSTEM)
    if last is not None and last.as_of >= as_of:
        return None
    summary = await tiers.run_tier_review(db, SYSTEM, as_of=as_of, triggered_by="schedule")
    log.info("tier review as of %s: %s", as_of.isoformat(), summary)
    return summary


async def tier_review_loop(db: Database) -> None:
    """A background loop of the app: checks every interval whether the day's review is due."""
    interval = get_members_settings().tier_review_interval_seconds
    if interval <= 0:
        return  # turned off (tests, or a deployment that schedules reviews elsewhere)
    while True:
        await run_due_review(db)
        await asyncio.sleep(interval)
