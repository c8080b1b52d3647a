"""Operators' side of abuse control: the alliance-wide rules, the abuse signals admission raises
(listed, then released or turned into a block), and blocked members."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.auth.principals import Principal
from shared.database import Database
from shared.errors import Conflict, InvalidInput, NotFound
from shared.pagination import Page, PageRequest, paginate
from shared.timeutil import utcnow

from services.redemptions import access
from services.redemptions.models import AbuseSignal, MemberBlock, RedemptionRules
from services.redemptions.redeeming.rules import Rules
from services.redemptions.redeeming import store as redeeming_store

MAX_NOTE = 500
RULES_T = RedemptionRules.__table__  # type: ignore[attr-defined]
SIGNALS_T = AbuseSignal.__table__  # type: ignore[attr-defined]
BLOCKS_T = MemberBlock.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class SignalAnswer:
    id: uuid.UUID
    member_id: uuid.UUID
    kind: str
    status: str
    detail: dict[str, Any]
    created_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None
    note: str | None


def _signal(row: Any) -> SignalAnswer:
    return SignalAnswer(row.id, row.member_id, row.kind, row.status, row.detail, row.created_at, row.resolved_at, row.resolved_by, row.note)


async def get_rules(db: Database, principal: Principal) -> Rules:
    access.require_staff(principal)
    async with db.session() as session:
        return await redeeming_store.rules(session)


async def set_rules(db: Database, principal: Principal, new: Rules) -> Rules:
    access.require_operator(principal)
    for item in fields(new):
        value = getattr(new, item.name)
        if value is not None and (isinstance(value, bool) or not 1 <= value <= 10**12):
            raise InvalidInput(f"{item.name} must be a positive whole number or null", field=item.name)
    if (new.young_account_days is None) != (new.high_value_points is None):
        raise InvalidInput("youngAccountDays and highValuePoints go together", field="youngAccountDays")
    values = {item.name: getattr(new, item.name) for item in fields(new)} | {"updated_at": utcnow(), "updated_by": access.actor(principal)}

    async def work(session: AsyncSession) -> None:
        await session.exec(pg_insert(RULES_T).values(id=1, **values).on_conflict_do_update(index_elements=["id"], set_=values))  # type: ignore[call-overload]

    await db.run_transaction(work)
    return new


async def list_signals(db: Database, principal: Principal, request: PageRequest, status: str | None = "OPEN") -> Page[SignalAnswer]:
    access.require_staff(principal)
    query = sa.select(SIGNALS_T)
    if status is not None:
        query = query.where(SIGNALS_T.c.status == status)
    if request.after_values is not None:
        query = query.where(sa.tuple_(SIGNALS_T.c.created_at, SIGNALS_T.c.id) < sa.tuple_(*request.after_values))
    query = query.order_by(SIGNALS_T.c.created_at.desc(), SIGNALS_T.c.id.desc()).limit(request.fetch_limit)
    async with db.session() as session:
        rows = (await session.exec(query)).all()  # type: ignore[call-overload]
    return paginate([_signal(row) for row in rows], request, key=lambda s: (s.created_at, s.id))


async def resolve_signal(db: Database, principal: Principal, signal_id: uuid.UUID, *, block: bool, note: str | None) -> SignalAnswer:
    """RELEASED (the member may go on; the rule no longer applies to them) or BLOCKED (no more
    redemptions until unblocked). Resolving it again the same way answers the same signal."""
    access.require_operator(principal)
    _check_note(note)
    now, actor = utcnow(), access.actor(principal)
    status = "BLOCKED" if block else "RELEASED"

    async def work(session: AsyncSession) -> SignalAnswer:
        row = (await session.exec(sa.select(SIGNALS_T).where(SIGNALS_T.c.id == signal_id).with_for_update())).first()  # type: ignore[call-overload]
        if row is None:
            raise NotFound("no such abuse signal", id=str(signal_id))
        if row.status != "OPEN":
            if row.status == status:
                return _signal(row)
            raise Conflict(f"this signal was already {row.status.lower()}", status=row.status)
        await session.exec(sa.update(SIGNALS_T).where(SIGNALS_T.c.id == signal_id)  # type: ignore[call-overload]
                           .values(status=status, resolved_at=now, resolved_by=actor, note=note))
        if block:
            await _block(session, row.member_id, note or f"abuse signal {row.kind}", actor, now)
        updated = (await session.exec(sa.select(SIGNALS_T).where(SIGNALS_T.c.id == signal_id))).first()  # type: ignore[call-overload]
        return _signal(updated)

    return await db.run_transaction(work)


async def _block(session: AsyncSession, member_id: uuid.UUID, reason: str, actor: str, now: datetime) -> None:
    await session.exec(pg_insert(BLOCKS_T).values(member_id=member_id, reason=reason[:500], blocked_by=actor, blocked_at=now)  # type: ignore[call-overload]
                       .on_conflict_do_nothing())


async def set_member_blocked(db: Database, principal: Principal, member_id: uuid.UUID, *, blocked: bool, reason: str | None) -> bool:
    """Operators block or unblock a member directly; answers whether the member is blocked now."""
    access.require_operator(principal)
    _check_note(reason)
    now, actor = utcnow(), access.actor(principal)

    async def work(session: AsyncSession) -> bool:
        if blocked:
            await _block(session, member_id, reason or "blocked by an operator", actor, now)
        else:
            await session.exec(sa.delete(BLOCKS_T).where(BLOCKS_T.c.member_id == member_id))  # type: ignore[call-overload]
        return blocked

    return await db.run_transaction(work)


async def is_blocked(db: Database, principal: Principal, member_id: uuid.UUID) -> bool:
    access.require_staff(principal)
    async with db.session() as session:
        return await redeeming_store.is_blocked(session, member_id) is not None


def _check_note(note: str | None) -> None:
    if note is not None and len(note) > MAX_NOTE:
        raise InvalidInput(f"the note is longer than {MAX_NOTE} characters", field="note")
