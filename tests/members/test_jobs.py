"""Scheduled jobs: the daily tier review, run by members itself."""

from __future__ import annotations

from datetime import timedelta

from shared.database import Database
from shared.timeutil import utcnow

from services.members import jobs
from tests.members.conftest import fetch


async def test_the_daily_job_runs_once_a_day(database: Database) -> None:
    now = utcnow()
    first = await jobs.run_due_review(database, now)
    assert first is not None and first.as_of == now.replace(hour=0, minute=0, second=0, microsecond=0)
    assert await jobs.run_due_review(database, now + timedelta(minutes=5)) is None
    assert await jobs.run_due_review(database, now + timedelta(days=1)) is not None
    assert len(await fetch(database, "SELECT 1 FROM members.tier_review_runs WHERE triggered_by = 'schedule'")) == 2
