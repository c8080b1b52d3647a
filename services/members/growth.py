"""Transitional: the old import path of the rolling-growth read, kept only because a test outside
members (tests/points/test_events_with_members.py) still imports it. Use `tiers.service`; delete
this module once that test does."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from shared.database import Database

from services.members.access import SYSTEM
from services.members.tiers import service as tiers


async def rolling_growth(db: Database, member_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
    """`tiers.service.rolling_growth` read by members itself (the old call took no principal)."""
    return await tiers.rolling_growth(db, SYSTEM, member_ids)
