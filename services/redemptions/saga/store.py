"""The saga's SQL: leases, fenced step records, the timeline, and the recovery loop's scan.

Every write of a step is fenced by the lease: it changes the row only while `lease_owner` is the
writer, so a process that lost its lease (it stalled, another took over) cannot overwrite what the
new owner recorded.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from services.redemptions.models import Redemption, RedemptionStep

T = Redemption.__table__  # type: ignore[attr-defined]
STEPS_T = RedemptionStep.__table__  # type: ignore[attr-defined]

_INSERT_STEP = sa.insert(STEPS_T)
IN_FLIGHT = sa.or_(T.c.status == "PENDING", T.c.refund_state == "PENDING")


async def load(session: AsyncSession, redemption_id: uuid.UUID) -> Redemption | None:
    return await session.get(Redemption, redemption_id)


async def take_lease(session: AsyncSession, redemption_id: uuid.UUID, owner: str, now: datetime, seconds: float) -> Redemption | None:
    """The redemption, leased to `owner`, if it is in flight and nobody else holds a live lease."""
    row = (await session.exec(  # type: ignore[call-overload]
        sa.select(Redemption).where(T.c.id == redemption_id, IN_FLIGHT).with_for_update()
    )).scalars().first()
    if row is None:
        return None
    if row.lease_owner not in (None, owner) and row.lease_until is not None and row.lease_until > now:
        return None
    row.lease_owner, row.lease_until = owner, now + timedelta(seconds=seconds)
    await session.flush()
    return row


async def due(session: AsyncSession, now: datetime, limit: int) -> list[uuid.UUID]:
    """Sagas and refunds in flight whose time has come and whose lease (if any) has run out."""
    rows = await session.exec(  # type: ignore[call-overload]
        sa.select(T.c.id)
        .where(IN_FLIGHT, T.c.next_attempt_at <= now, sa.or_(T.c.lease_until.is_(None), T.c.lease_until < now))
        .order_by(T.c.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return [row[0] for row in rows.all()]


async def record(
    session: AsyncSession, redemption_id: uuid.UUID, owner: str, changes: Mapping[str, Any],
    timeline: Sequence[tuple[str, str, dict[str, Any]]], now: datetime,
) -> bool:
    """Writes `changes` while `owner` holds the lease, with the timeline entries; False: lease lost."""
    done = await session.exec(  # type: ignore[call-overload]
        sa.update(T).where(T.c.id == redemption_id, T.c.lease_owner == owner).values(**changes, updated_at=now)
    )
    if done.rowcount != 1:
        return False
    await add_timeline(session, redemption_id, timeline, now)
    return True


async def add_timeline(session: AsyncSession, redemption_id: uuid.UUID, entries: Sequence[tuple[str, str, dict[str, Any]]], now: datetime) -> None:
    if entries:
        # One statement compiled once (a multi-row VALUES would be compiled anew for every call).
        await session.exec(_INSERT_STEP, params=[  # type: ignore[call-overload]
            {"redemption_id": redemption_id, "step": step, "outcome": outcome, "detail": detail, "at": now}
            for step, outcome, detail in entries
        ])


async def timelines(session: AsyncSession, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[RedemptionStep]]:
    rows = (await session.exec(  # type: ignore[call-overload]
        sa.select(RedemptionStep).where(STEPS_T.c.redemption_id.in_(ids)).order_by(STEPS_T.c.id)
    )).scalars().all()
    found: dict[uuid.UUID, list[RedemptionStep]] = {i: [] for i in ids}
    for row in rows:
        found[row.redemption_id].append(row)
    return found
