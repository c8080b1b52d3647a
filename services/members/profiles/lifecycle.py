"""Lifecycle stage: where a member is in their relationship with the alliance.

NEW for the first 3 months after joining, GROWING from 3 to 12 months, MATURE after 12; AT_RISK
overrides all three when there has been no activity for 90 days (a member who never did anything
counts from the day they joined). Computed, never stored, so it is never stale; the staff list
filters on the same cut-offs in SQL (see `cutoffs` and the store's `stage_condition`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.timeutil import add_months

from services.members.profiles.answers import LifecycleStage

NEW_MONTHS = 3
MATURE_MONTHS = 12
AT_RISK_AFTER = timedelta(days=90)


@dataclass(frozen=True)
class Cutoffs:
    """Instants that split members into stages as of one moment: joined after `new_since` is NEW,
    else after `growing_since` GROWING, else MATURE; last seen at or before `inactive_before` is
    AT_RISK. Python and SQL compare against the same instants, so they never disagree."""

    new_since: datetime
    growing_since: datetime
    inactive_before: datetime


def cutoffs(as_of: datetime) -> Cutoffs:
    return Cutoffs(
        new_since=add_months(as_of, -NEW_MONTHS),
        growing_since=add_months(as_of, -MATURE_MONTHS),
        inactive_before=as_of - AT_RISK_AFTER,
    )


def stage(joined_at: datetime, last_activity_at: datetime | None, as_of: datetime) -> LifecycleStage:
    edge = cutoffs(as_of)
    last_seen = max(joined_at, last_activity_at) if last_activity_at else joined_at
    if last_seen <= edge.inactive_before:
        return LifecycleStage.AT_RISK
    if joined_at > edge.new_since:
        return LifecycleStage.NEW
    if joined_at > edge.growing_since:
        return LifecycleStage.GROWING
    return LifecycleStage.MATURE
