"""The ledger's SQL: member account locks and upserts, lot reads, expiry notices.

Statements on request paths are `Prepared` once (run on the driver inside the unit's transaction).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Uuid, and_, any_, bindparam, func, or_, select
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.sql import ColumnElement
from sqlmodel.ext.asyncio.session import AsyncSession

from services.points.ledger.answers import Balances
from services.points.ledger.rows import AccountRow, LotRow
from services.points.models import ExpiryNotice, Hold, Lot, MemberAccount, Purchase
from shared.database import Database, Prepared, Unit
from shared.errors import NotFound
from shared.timeutil import utcnow

_accounts = MemberAccount.__table__
_lots = Lot.__table__
_notices = ExpiryNotice.__table__

# --- member accounts ---------------------------------------------------------------------------

_STATE = [_accounts.c[name] for name in AccountRow.COLUMNS]
_LOCK_ONE = Prepared(select(*_STATE).where(_accounts.c.member_id == bindparam("member_id")).with_for_update())
_LOCK_MANY = Prepared(
    select(*_STATE)
    .where(_accounts.c.member_id == any_(bindparam("member_ids", type_=ARRAY(Uuid))))
    .order_by(_accounts.c.member_id)  # sorted: two operations over several members never deadlock
    .with_for_update()
)
# The account of the member a hold or a purchase belongs to, in one round trip.
_LOCK_OWNER = {
    model: Prepared(
        select(*_STATE)
        .where(
            _accounts.c.member_id
            == select(model.__table__.c.member_id).where(model.__table__.c.id == bindparam("row_id")).scalar_subquery()
        )
        .with_for_update()
    )
    for model in (Hold, Purchase)
}


def _remember(unit: Unit, rows: Iterable[Any]) -> dict[uuid.UUID, AccountRow]:
    """The locked accounts, tracked by the unit (which stamps the changed ones when it finishes)."""
    return {row.member_id: unit.load(AccountRow, row._mapping) for row in rows}


async def lock_members(unit: Unit, member_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, AccountRow]:
    """Locks the accounts of `member_ids` that exist (missing ones are left out of the answer)."""
    ids = sorted(set(member_ids))
    if not ids:
        return {}
    if len(ids) == 1:
        return _remember(unit, await unit.execute(_LOCK_ONE, {"member_id": ids[0]}))
    return _remember(unit, await unit.execute(_LOCK_MANY, {"member_ids": ids}))


async def lock_member(unit: Unit, member_id: uuid.UUID) -> AccountRow:
    states = await lock_members(unit, [member_id])
    if member_id not in states:
        raise NotFound("this member has no points account", memberId=str(member_id))
    return states[member_id]


async def lock_member_of(unit: Unit, owner: type[Hold] | type[Purchase], row_id: uuid.UUID, what: str) -> AccountRow:
    """Locks the account of the member a hold (or purchase) belongs to."""
    states = _remember(unit, await unit.execute(_LOCK_OWNER[owner], {"row_id": row_id}))
    if not states:
        raise NotFound(f"no such {what}", **{f"{what}Id": str(row_id)})
    return next(iter(states.values()))


async def ensure_accounts(unit: Unit, member_ids: Iterable[uuid.UUID]) -> None:
    """Opens an empty account for members points has not seen yet."""
    rows = [{"member_id": member_id} for member_id in sorted(set(member_ids))]
    if rows:
        await unit.execute(insert(_accounts).values(rows).on_conflict_do_nothing(index_elements=["member_id"]))


async def known_accounts(db: Database, member_ids: set[uuid.UUID]) -> set[uuid.UUID]:
    """The ids among `member_ids` that have an account."""
    if not member_ids:
        return set()
    async with db.engine.connect() as connection:
        rows = await connection.execute(select(_accounts.c.member_id).where(_accounts.c.member_id.in_(list(member_ids))))
        return {row.member_id for row in rows}


_BALANCES = Prepared(
    select(*(_accounts.c[name] for name in Balances.__dataclass_fields__))
    .where(_accounts.c.member_id == any_(bindparam("member_ids", type_=ARRAY(Uuid))))
)


async def balances(db: Database, member_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Balances]:
    """The balances of the members that have an account, in one query (the hottest read: a
    member's app asks for it with every screen, so it runs on the driver, outside a transaction)."""
    ids = list(set(member_ids))
    if not ids:
        return {}
    rows = await db.read(_BALANCES, {"member_ids": ids})
    return {row.member_id: Balances(**row._mapping) for row in rows}


async def set_birthday_month(db: Database, member_id: uuid.UUID, birthday_month: int | None) -> None:
    """Sets the month on the member's account, opening the account if needed."""
    async with db.engine.begin() as connection:
        await connection.execute(
            insert(_accounts)
            .values(member_id=member_id, birthday_month=birthday_month)
            .on_conflict_do_update(index_elements=["member_id"], set_={"birthday_month": birthday_month, "updated_at": utcnow()})
        )


async def record_tier(session: AsyncSession, member_id: uuid.UUID, tier: str, sequence: int) -> None:
    """Sets the member's tier unless a change with a higher sequence is recorded already."""
    statement = (
        insert(_accounts)
        .values(member_id=member_id, tier=tier, tier_sequence=sequence)
        .on_conflict_do_update(
            index_elements=["member_id"],
            set_={"tier": tier, "tier_sequence": sequence},
            where=_accounts.c.tier_sequence < sequence,  # an older change arriving late changes nothing
        )
    )
    await session.exec(statement)  # type: ignore[call-overload]


async def record_status(session: AsyncSession, member_id: uuid.UUID, status: str, at: datetime) -> None:
    """Keeps the member's latest status (deliveries overtake one another); ERASED is final."""
    values = {"status": status, "status_changed_at": at, "updated_at": utcnow()}
    open_ = _accounts.c.status != "ERASED"
    newer = or_(_accounts.c.status_changed_at.is_(None), _accounts.c.status_changed_at < at)
    statement = (
        insert(_accounts)
        .values(member_id=member_id, status=status, status_changed_at=at)
        .on_conflict_do_update(
            index_elements=["member_id"],
            set_=values,
            where=open_ if status == "ERASED" else and_(open_, newer),
        )
    )
    await session.exec(statement)  # type: ignore[call-overload]


# --- lots ----------------------------------------------------------------------------------------

_LOT = [_lots.c[name] for name in LotRow.COLUMNS]


def _spendable_statement(*, excluding: bool) -> Any:
    running = func.sum(_lots.c.remaining).over(order_by=(_lots.c.expires_at, _lots.c.id)).label("running")
    conditions = [
        _lots.c.member_id == bindparam("member_id"),
        _lots.c.expired_at.is_(None),
        _lots.c.vested_at.is_not(None),
        _lots.c.remaining > 0,
        _lots.c.expires_at > bindparam("now"),
    ]
    if excluding:
        conditions.append(_lots.c.id != bindparam("exclude"))
    candidates = select(*_LOT, running).where(*conditions).subquery()
    return (
        select(*(candidates.c[name] for name in LotRow.COLUMNS))
        .where(candidates.c.running - candidates.c.remaining < bindparam("points"))
        .order_by(candidates.c.expires_at, candidates.c.id)
    )


_SPENDABLE = Prepared(_spendable_statement(excluding=False))
_SPENDABLE_EXCLUDING = Prepared(_spendable_statement(excluding=True))
_LOTS_BY_IDS = Prepared(select(*_LOT).where(_lots.c.id == any_(bindparam("ids", type_=ARRAY(Uuid)))))


async def load_lots(unit: Unit, lot_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, LotRow]:
    ids = list(set(lot_ids))
    if not ids:
        return {}
    return {lot.id: lot for lot in await unit.fetch(LotRow, _LOTS_BY_IDS, {"ids": ids})}


async def spendable_lots(
    unit: Unit, member_id: uuid.UUID, points: int, *, exclude: uuid.UUID | None = None
) -> list[LotRow]:
    """The member's vested, live lots, first-expiring first, just enough of them to cover `points`
    (all of them if they do not): a running sum stops the scan at the lot that completes it."""
    params = {"member_id": member_id, "now": unit.now, "points": points}
    if exclude is None:
        return await unit.fetch(LotRow, _SPENDABLE, params)
    return await unit.fetch(LotRow, _SPENDABLE_EXCLUDING, {**params, "exclude": exclude})


# Lots the jobs act on, as conditions: the same ones find the members and, under their locks, the lots.
Due = tuple[ColumnElement[bool], ...]


def due_to_vest(now: datetime) -> Due:
    return (_lots.c.vested_at.is_(None), _lots.c.expired_at.is_(None), _lots.c.vests_at <= now)


def due_to_expire(now: datetime) -> Due:
    return (_lots.c.expired_at.is_(None), _lots.c.expires_at <= now)


def of_closed_accounts() -> Due:
    """Open lots of erased members: what is left in them goes to breakage."""
    erased = select(_accounts.c.member_id).where(_accounts.c.status == "ERASED")
    return (_lots.c.expired_at.is_(None), _lots.c.member_id.in_(erased))


async def members_with_lots(db: Database, due: Due, *, limit: int) -> list[uuid.UUID]:
    async with db.engine.connect() as connection:
        rows = await connection.execute(select(_lots.c.member_id).where(*due).group_by(_lots.c.member_id).limit(limit))
        return [row.member_id for row in rows]


async def lots_of_members(unit: Unit, member_ids: Sequence[uuid.UUID], due: Due) -> list[LotRow]:
    """The members' lots matching `due`, first-expiring first (read under the members' locks)."""
    statement = select(*_LOT).where(_lots.c.member_id.in_(list(member_ids)), *due).order_by(_lots.c.expires_at, _lots.c.id)
    return await unit.fetch(LotRow, statement)


# --- expiry notices ------------------------------------------------------------------------------


async def claim_expiry_notices(unit: Unit, *, within: timedelta, limit: int) -> list[Any]:
    """Lots expiring within `within` not yet announced, claimed for announcing now: their rows
    (id, member_id, remaining, expires_at). A concurrent run claims each lot once."""
    due = (
        select(_lots.c.id, _lots.c.member_id, _lots.c.remaining, _lots.c.expires_at)
        .where(
            _lots.c.expired_at.is_(None),
            _lots.c.remaining > 0,
            _lots.c.expires_at > unit.now,
            _lots.c.expires_at <= unit.now + within,
            ~select(_notices.c.lot_id).where(_notices.c.lot_id == _lots.c.id).exists(),
        )
        .order_by(_lots.c.expires_at)
        .limit(limit)
    )
    lots = (await unit.execute(due)).all()
    if not lots:
        return []
    claimed = await unit.execute(
        insert(_notices).on_conflict_do_nothing().returning(_notices.c.lot_id),
        [{"lot_id": r.id, "member_id": r.member_id, "points": r.remaining, "expires_at": r.expires_at, "notified_at": unit.now} for r in lots],
    )
    mine = {row.lot_id for row in claimed}
    return [row for row in lots if row.id in mine]
