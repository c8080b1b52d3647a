"""The SQL of members' own rows: members, their data keys, the status audit."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.crypto import unwrap_data_key, wrap_data_key
from shared.database import Database, Prepared
from shared.errors import Conflict, NotFound

from services.members.models import EMAIL_UNIQUE, PHONE_UNIQUE, Member, MemberKey, StatusChange
from services.members.profiles.answers import LifecycleStage, Status
from services.members.profiles.lifecycle import cutoffs
from services.members.profiles.rules import ListCriteria


class LoadedMember:
    """A member row with its data key (None once erased), unwrapped on first use: a read that
    shows nothing personal (`me { tier }`) never touches the key."""

    __slots__ = ("row", "_wrapped", "_key")

    def __init__(self, row: Member, data_key: bytes | None = None, *, wrapped: bytes | None = None) -> None:
        self.row, self._key, self._wrapped = row, data_key, wrapped

    @property
    def data_key(self) -> bytes | None:
        if self._key is None and self._wrapped is not None:
            self._key = unwrap_data_key(self._wrapped, self.row.id.bytes)
        return self._key


def _with_key():  # noqa: ANN202 - a select of (Member, wrapped key)
    return select(Member, MemberKey.wrapped_key).outerjoin(MemberKey, col(MemberKey.member_id) == col(Member.id))


def _loaded(member: Member, wrapped: bytes | None) -> LoadedMember:
    return LoadedMember(member, wrapped=wrapped)


async def any_member(session: AsyncSession) -> bool:
    return (await session.exec(select(sa.func.count()).select_from(Member))).one() > 0


_members, _keys = Member.__table__, MemberKey.__table__
_READ = Prepared(
    sa.select(_members, _keys.c.wrapped_key)
    .select_from(_members.outerjoin(_keys, _keys.c.member_id == _members.c.id))
    .where(_members.c.id == sa.any_(sa.bindparam("ids", type_=ARRAY(sa.Uuid))))
)


async def read(db: Database, ids: Sequence[uuid.UUID]) -> list[LoadedMember | None]:
    """Members by id in one query, in the order asked (None for an unknown id): one statement on
    the driver outside a transaction, no ORM session (the hottest read: every screen of a member's
    app asks for `me`). The rows read by attribute like `Member`s (the same names), which is all
    that presenting a member needs."""
    if not ids:
        return []
    rows = await db.read(_READ, {"ids": list(set(ids))})
    found = {row.id: _loaded(row, row.wrapped_key) for row in rows}  # type: ignore[arg-type]
    return [found.get(member_id) for member_id in ids]


async def lock(session: AsyncSession, member_id: uuid.UUID) -> LoadedMember:
    """One member, locked for the rest of the transaction; NOT_FOUND if there is none."""
    row = (await session.exec(_with_key().where(col(Member.id) == member_id).with_for_update(of=Member))).first()
    if row is None:
        raise NotFound("no member with this id", id=str(member_id))
    return _loaded(*row)


async def page(
    session: AsyncSession,
    criteria: ListCriteria,
    *,
    now: datetime,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[LoadedMember]:
    """Newest members first, (joined_at, id) after the cursor's."""
    query = _with_key()
    for condition in _conditions(criteria, now):
        query = query.where(condition)
    if after is not None:
        query = query.where(sa.tuple_(col(Member.joined_at), col(Member.id)) < sa.tuple_(*after))
    query = query.order_by(col(Member.joined_at).desc(), col(Member.id).desc()).limit(limit)
    return [_loaded(member, wrapped) for member, wrapped in (await session.exec(query)).all()]


async def count(session: AsyncSession, criteria: ListCriteria, *, now: datetime) -> int:
    """How many members match, as `page` filters them."""
    query = select(sa.func.count()).select_from(Member)
    for condition in _conditions(criteria, now):
        query = query.where(condition)
    return int((await session.exec(query)).one())


def _conditions(criteria: ListCriteria, now: datetime) -> list[sa.ColumnElement[bool]]:
    conditions: list[sa.ColumnElement[bool]] = []
    if criteria.tier is not None:
        conditions.append(col(Member.tier) == criteria.tier)
    if criteria.status is not None:
        conditions.append(col(Member.status) == criteria.status.value)
    if criteria.phone_index is not None:
        conditions.append(col(Member.phone_index) == criteria.phone_index)
    if criteria.email_index is not None:
        conditions.append(col(Member.email_index) == criteria.email_index)
    if criteria.lifecycle_stage is not None:
        conditions.append(col(Member.status) != Status.ERASED.value)  # erased members have no stage
        conditions.append(stage_condition(criteria.lifecycle_stage, now))
    return conditions


def stage_condition(wanted: LifecycleStage, now: datetime) -> sa.ColumnElement[bool]:
    """The SQL twin of `lifecycle.stage`, on the same cut-off instants."""
    edge = cutoffs(now)
    joined = col(Member.joined_at)
    # greatest() ignores NULLs: a member who never did anything counts from the day they joined.
    at_risk = sa.func.greatest(joined, col(Member.last_activity_at)) <= edge.inactive_before
    if wanted is LifecycleStage.AT_RISK:
        return at_risk
    if wanted is LifecycleStage.NEW:
        return sa.and_(~at_risk, joined > edge.new_since)
    if wanted is LifecycleStage.GROWING:
        return sa.and_(~at_risk, joined <= edge.new_since, joined > edge.growing_since)
    return sa.and_(~at_risk, joined <= edge.growing_since)


async def insert(session: AsyncSession, member: Member, data_key: bytes, now: datetime) -> None:
    """A new member and their wrapped data key. A duplicate phone or email is CONFLICT (the unique
    index decides, also between racing registrations)."""
    session.add(member)
    await flush(session)
    session.add(MemberKey(member_id=member.id, wrapped_key=wrap_data_key(data_key, member.id.bytes), created_at=now))


async def flush(session: AsyncSession) -> None:
    """Writes pending changes now, so a duplicate phone or email surfaces as CONFLICT."""
    try:
        await session.flush()
    except IntegrityError as error:
        raise _duplicate(error) from None


def _duplicate(error: IntegrityError) -> Exception:
    constraint = _constraint_of(error)
    if constraint == PHONE_UNIQUE:
        return Conflict("a member with this phone number already exists", field="phone")
    if constraint == EMAIL_UNIQUE:
        return Conflict("a member with this email address already exists", field="email")
    return error


def _constraint_of(error: IntegrityError) -> str | None:
    orig = error.orig
    for candidate in (orig, getattr(orig, "__cause__", None)):
        name = getattr(candidate, "constraint_name", None)
        if name:
            return name
    return None


async def delete_key(session: AsyncSession, member_id: uuid.UUID) -> None:
    """Crypto-shredding: without its key, the member's ciphertext anywhere is noise."""
    await session.exec(sa.delete(MemberKey).where(col(MemberKey.member_id) == member_id))  # type: ignore[call-overload]


def add_status_change(
    session: AsyncSession, member: Member, to: Status, reason: str | None, actor: str, now: datetime
) -> None:
    session.add(
        StatusChange(
            member_id=member.id, from_status=member.status, to_status=to.value, reason=reason, actor=actor,
            occurred_at=now,
        )
    )
