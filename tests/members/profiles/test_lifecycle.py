"""Lifecycle stages: the pure rule (no database); the staff list's SQL twin is tested in test_listing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.timeutil import add_months

from services.members.profiles.answers import LifecycleStage
from services.members.profiles.lifecycle import stage

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("joined", "active", "expected"),
    [
        (NOW - timedelta(days=1), None, LifecycleStage.NEW),
        (NOW - timedelta(days=89), None, LifecycleStage.NEW),  # just under 90 idle days and 3 months
        (add_months(NOW, -3) + timedelta(seconds=1), NOW, LifecycleStage.NEW),
        (add_months(NOW, -3), NOW, LifecycleStage.GROWING),  # exactly 3 months
        (add_months(NOW, -12) + timedelta(seconds=1), NOW, LifecycleStage.GROWING),
        (add_months(NOW, -12), NOW, LifecycleStage.MATURE),  # exactly 12 months
        (NOW - timedelta(days=3000), NOW - timedelta(days=10), LifecycleStage.MATURE),
        # no activity for 90 days overrides everything else
        (NOW - timedelta(days=90), None, LifecycleStage.AT_RISK),
        (NOW - timedelta(days=200), NOW - timedelta(days=90), LifecycleStage.AT_RISK),
        (NOW - timedelta(days=200), NOW - timedelta(days=89, hours=23), LifecycleStage.GROWING),
        (NOW - timedelta(days=3000), NOW - timedelta(days=400), LifecycleStage.AT_RISK),
    ],
)
def test_lifecycle_stages(joined: datetime, active: datetime | None, expected: LifecycleStage) -> None:
    assert stage(joined, active, NOW) is expected
