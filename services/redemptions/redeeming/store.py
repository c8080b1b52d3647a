"""Redeeming's SQL: the idempotent lookup, the member's lock and recent redemptions, the rules,
identities and signals admission reads, and the lists."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlmodel.ext.asyncio.session import AsyncSession

from services.redemptions.models import AbuseSignal, IdentityUse, MemberBlock, Redemption, RedemptionRules
from services.redemptions.redeeming.rules import Recent, Rules

T = Redemption.__table__  # type: ignore[attr-defined]
SIGNALS = AbuseSignal.__table__  # type: ignore[attr-defined]
USES = IdentityUse.__table__  # type: ignore[attr-defined]


async def _exec(session: AsyncSession, statement: Any) -> Any:
    return await session.exec(statement)  # type: ignore[call-overload]


async def by_key(session: AsyncSession, member_id: uuid.UUID, key: str) -> Redemption | None:
    return (await _exec(session, sa.select(Redemption).where(T.c.member_id == member_id, T.c.idempotency_key == key))).scalars().first()


async def lock(session: AsyncSession, *names: str) -> None:
    """Transaction-scoped advisory locks, taken in a fixed order (so two admissions cannot deadlock)."""
    for name in sorted(set(names)):
        await _exec(session, sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtextextended(name, 0))))


async def is_blocked(session: AsyncSession, member_id: uuid.UUID) -> MemberBlock | None:
    return await session.get(MemberBlock, member_id)


async def rules(session: AsyncSession) -> Rules:
    row = await session.get(RedemptionRules, 1)
    if row is None:
        return Rules()
    return Rules(row.per_member_per_hour, row.points_per_member_per_day, row.members_per_account, row.members_per_device,
                 row.young_account_days, row.high_value_points)


async def recent(session: AsyncSession, member_id: uuid.UUID, now: datetime) -> Recent:
    hour, day = now - timedelta(hours=1), now - timedelta(days=1)
    found = (await _exec(session, sa.select(
        sa.func.count().filter(T.c.created_at > hour),
        sa.func.min(T.c.created_at).filter(T.c.created_at > hour),
        sa.func.coalesce(sa.func.sum(T.c.points).filter(T.c.status.notin_(("FAILED", "REFUNDED"))), 0),
    ).where(T.c.member_id == member_id, T.c.created_at > day))).one()
    return Recent(int(found[0]), found[1], int(found[2]))


async def others_using(session: AsyncSession, kind: str, value_hash: bytes, member_id: uuid.UUID) -> int:
    return int((await _exec(session, sa.select(sa.func.count()).select_from(USES).where(
        USES.c.kind == kind, USES.c.value_hash == value_hash, USES.c.member_id != member_id))).scalar_one())


async def record_use(session: AsyncSession, kind: str, value_hash: bytes, member_id: uuid.UUID, now: datetime) -> None:
    await _exec(session, pg_insert(USES).values(kind=kind, value_hash=value_hash, member_id=member_id, first_seen_at=now)
                .on_conflict_do_nothing())


async def released_kinds(session: AsyncSession, member_id: uuid.UUID) -> frozenset[str]:
    rows = await _exec(session, sa.select(SIGNALS.c.kind).where(SIGNALS.c.member_id == member_id, SIGNALS.c.status == "RELEASED").distinct())
    return frozenset(row[0] for row in rows.all())


async def raise_signal(session: AsyncSession, member_id: uuid.UUID, kind: str, detail: dict[str, Any], now: datetime) -> uuid.UUID:
    """An OPEN signal of this kind for the member (the one already open, if any: no flood of copies)."""
    open_one = (await _exec(session, sa.select(SIGNALS.c.id).where(
        SIGNALS.c.member_id == member_id, SIGNALS.c.kind == kind, SIGNALS.c.status == "OPEN"))).first()
    if open_one:
        return open_one[0]
    signal_id = uuid.uuid4()
    await _exec(session, sa.insert(SIGNALS).values(id=signal_id, member_id=member_id, kind=kind, detail=detail, status="OPEN", created_at=now))
    return signal_id


async def page(
    session: AsyncSession, *, member_id: uuid.UUID | None = None, partner_id: uuid.UUID | None = None,
    statuses: Sequence[str] | None = None, kind: str | None = None, after: tuple[Any, ...] | None = None, limit: int,
) -> list[Redemption]:
    """Newest first, by (created_at, id)."""
    query = sa.select(Redemption)
    if member_id is not None:
        query = query.where(T.c.member_id == member_id)
    if partner_id is not None:
        query = query.where(T.c.partner_id == partner_id)
    if statuses:
        query = query.where(T.c.status.in_(list(statuses)))
    if kind is not None:
        query = query.where(T.c.kind == kind)
    if after is not None:
        query = query.where(sa.tuple_(T.c.created_at, T.c.id) < sa.tuple_(*after))
    query = query.order_by(T.c.created_at.desc(), T.c.id.desc()).limit(limit)
    return list((await _exec(session, query)).scalars().all())


async def by_ids(session: AsyncSession, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Redemption]:
    rows = (await _exec(session, sa.select(Redemption).where(T.c.id.in_(list(ids))))).scalars().all()
    return {row.id: row for row in rows}


async def changed_since(session: AsyncSession, member_id: uuid.UUID, since: datetime, limit: int) -> list[uuid.UUID]:
    """The member's redemptions written since `since`, most recently written last."""
    query = (sa.select(T.c.id).where(T.c.member_id == member_id, T.c.updated_at >= since)
             .order_by(T.c.updated_at.desc()).limit(limit))
    return [row[0] for row in reversed((await _exec(session, query)).all())]
