"""The members domain: registration, profiles, preferences, suspension, erasure and reads.

Plain async functions over a `Database`; every function that acts for someone takes the acting
`Principal` and enforces who may do it (the GraphQL layer only translates). Growth, tiers and the
tier review live in `growth.py` and are re-exported here.
"""

from __future__ import annotations

import enum
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.auth.principals import (
    Principal,
    require_authenticated,
    require_member,
    require_operator,
    require_staff,
)
from shared.crypto import blind_index, encrypt_field, field_aad, new_data_key, unwrap_data_key, wrap_data_key
from shared.database import Database
from shared.errors import Conflict, Forbidden, InvalidInput, LimitExceeded, NotFound
from shared.ids import new_id
from shared.pagination import Page, PageRequest, paginate
from shared.timeutil import require_aware, utcnow

from services.members import outbox
from services.members.access import Access, MemberView, access_for, may_read_whole_member, present
from services.members.lifecycle import LifecycleStage, cutoffs
from services.members.models import EMAIL_UNIQUE, PHONE_UNIQUE, Member, MemberKey, StatusChange, TierChange
from services.members.pii import MonthDay, normalise_display_name, normalise_email, normalise_phone
from services.members.policy import TIER_CODE

from services.members.growth import (  # noqa: F401 - the service's public surface
    GrowthInput,
    GrowthKind,
    GrowthResult,
    PolicyChange,
    ReviewSummary,
    TierProgress,
    current_policy,
    current_policy_in,
    last_review,
    policy_history,
    record_growth,
    review_tiers,
    rolling_growth,
    run_tier_review,
    tier_history,
    tier_progress,
    update_policy,
)

PHONE_PURPOSE = "members.phone"
EMAIL_PURPOSE = "members.email"
BIRTHDAY_COOLDOWN = timedelta(days=365)
MAX_CATEGORIES = 20
CATEGORY = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
MAX_REASON = 200
NOTIFICATION_CAP_MAX = 50


class Status(str, enum.Enum):
    ACTIVE = "ACTIVE"
    SUSPENDED = "SUSPENDED"
    ERASED = "ERASED"


class _Keep(enum.Enum):
    KEEP = "keep"


KEEP = _Keep.KEEP  # "leave this field as it is" in partial updates (None means "clear")


@dataclass(frozen=True)
class LoadedMember:
    """A member row with its unwrapped data key (None once erased)."""

    row: Member
    data_key: bytes | None

    def view(self, viewer: Principal, now: datetime | None = None) -> MemberView:
        return present(self.row, self.data_key, viewer, now or utcnow())


# --- reading -----------------------------------------------------------------------------------


async def load_members(db: Database, ids: Sequence[uuid.UUID]) -> list[LoadedMember | None]:
    """Members by id in one query (the entity DataLoader's batch), in the order asked; no checks:
    what a viewer sees is decided by `present`."""
    if not ids:
        return []
    async with db.session() as session:
        rows = (
            await session.exec(
                select(Member, MemberKey.wrapped_key)
                .outerjoin(MemberKey, col(MemberKey.member_id) == col(Member.id))
                .where(col(Member.id).in_(list(set(ids))))
            )
        ).all()
    found = {member.id: LoadedMember(member, _unwrap(member.id, wrapped)) for member, wrapped in rows}
    return [found.get(member_id) for member_id in ids]


async def get_member(db: Database, actor: Principal, member_id: uuid.UUID) -> MemberView:
    """A whole-member read: the member themself, staff and services; others are refused before
    we look, so a refusal says nothing about whether the id exists."""
    require_authenticated(actor)
    if not may_read_whole_member(access_for(actor, member_id)):
        raise Forbidden("a member's profile is visible only to that member, alliance staff and services")
    (loaded,) = await load_members(db, [member_id])
    if loaded is None:
        raise NotFound("no member with this id", id=str(member_id))
    return loaded.view(actor)


async def me(db: Database, actor: Principal) -> MemberView:
    return await get_member(db, actor, require_member(actor))


@dataclass(frozen=True)
class MemberFilter:
    tier: str | None = None
    status: Status | None = None
    lifecycle_stage: LifecycleStage | None = None
    phone: str | None = None  # exact match through the blind index
    email: str | None = None


async def list_members(
    db: Database,
    actor: Principal,
    filter: MemberFilter = MemberFilter(),
    *,
    first: int | None = None,
    after: str | None = None,
    now: datetime | None = None,
) -> Page[MemberView]:
    """Staff only; newest members first."""
    require_staff(actor)
    request = PageRequest(first, after, cursor_types=(datetime, uuid.UUID))
    now = now or utcnow()
    query = select(Member, MemberKey.wrapped_key).outerjoin(MemberKey, col(MemberKey.member_id) == col(Member.id))
    for condition in _conditions(filter, now):
        query = query.where(condition)
    if request.after_values is not None:
        joined, last_id = request.after_values
        query = query.where(sa.tuple_(col(Member.joined_at), col(Member.id)) < sa.tuple_(joined, last_id))
    query = query.order_by(col(Member.joined_at).desc(), col(Member.id).desc()).limit(request.fetch_limit)
    async with db.session() as session:
        rows = (await session.exec(query)).all()
    loaded = [LoadedMember(member, _unwrap(member.id, wrapped)) for member, wrapped in rows]
    page = paginate(loaded, request, key=lambda m: (m.row.joined_at, m.row.id))
    return Page(
        rows=[m.view(actor, now) for m in page.rows],
        cursors=page.cursors,
        has_next_page=page.has_next_page,
        has_previous_page=page.has_previous_page,
    )


def _conditions(filter: MemberFilter, now: datetime) -> list[sa.ColumnElement[bool]]:
    conditions: list[sa.ColumnElement[bool]] = []
    if filter.tier is not None:
        conditions.append(col(Member.tier) == _tier_code(filter.tier))
    if filter.status is not None:
        conditions.append(col(Member.status) == Status(filter.status).value)
    if filter.phone is not None:
        conditions.append(col(Member.phone_index) == blind_index(normalise_phone(filter.phone), PHONE_PURPOSE))
    if filter.email is not None:
        conditions.append(col(Member.email_index) == blind_index(normalise_email(filter.email), EMAIL_PURPOSE))
    if filter.lifecycle_stage is not None:
        conditions.append(col(Member.status) != Status.ERASED.value)  # erased members have no stage
        conditions.append(_stage_condition(LifecycleStage(filter.lifecycle_stage), now))
    return conditions


def _stage_condition(wanted: LifecycleStage, now: datetime) -> sa.ColumnElement[bool]:
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


def _tier_code(value: str) -> str:
    code = value.strip().upper()
    if not TIER_CODE.fullmatch(code):
        raise InvalidInput("tier is not a tier code", field="tier")
    return code


# --- registration ------------------------------------------------------------------------------


async def register_member(
    db: Database,
    actor: Principal,
    *,
    phone: str,
    display_name: str,
    email: str | None = None,
    birthday: str | MonthDay | None = None,
    now: datetime | None = None,
    joined_at: datetime | None = None,
) -> MemberView:
    """A new member. Registration comes from the sign-up flow (a service, after it has verified
    the phone) or from staff enrolling someone; members cannot create other members.

    Phone (and email, when given) are unique: a duplicate is CONFLICT, also when two registrations
    race (the unique index decides, not a prior read)."""
    require_authenticated(actor)
    if not (actor.is_service or actor.is_staff):
        raise Forbidden("members are registered by the sign-up service or by alliance staff")
    now = now or utcnow()
    joined_at = require_aware(joined_at, "joinedAt") if joined_at is not None else now
    phone_e164 = normalise_phone(phone)
    name = normalise_display_name(display_name)
    email_norm = normalise_email(email) if email is not None and email.strip() else None
    day = _birthday(birthday)
    member_id = new_id()
    data_key = new_data_key()
    try:
        async with db.transaction() as session:
            policy = await current_policy_in(session)
            member = Member(
                id=member_id,
                status=Status.ACTIVE.value,
                display_name=name,
                tier=policy.lowest.code,
                tier_since=joined_at,
                joined_at=joined_at,
                birthday_month=day.month if day else None,
                birthday_day=day.day if day else None,
                birthday_set_at=now if day else None,
                created_at=now,
                updated_at=now,
            )
            _set_phone(member, data_key, phone_e164)
            _set_email(member, data_key, email_norm)
            session.add(member)
            await session.flush()
            session.add(MemberKey(member_id=member_id, wrapped_key=wrap_data_key(data_key, member_id.bytes), created_at=now))
            session.add(
                TierChange(
                    member_id=member_id, sequence=0, from_tier=None, to_tier=member.tier, reason="JOINED",
                    rolling_growth=0, policy_version=policy.version, occurred_at=joined_at,
                )
            )
            await session.flush()
    except IntegrityError as error:
        raise _duplicate(error) from None
    return LoadedMember(member, data_key).view(actor, now)


def _birthday(value: str | MonthDay | None) -> MonthDay | None:
    if value is None or isinstance(value, MonthDay):
        return value
    return MonthDay.parse(value)


def _set_phone(member: Member, data_key: bytes, e164: str) -> None:
    member.phone_ciphertext = encrypt_field(data_key, e164, field_aad(member.id, "phone"))
    member.phone_index = blind_index(e164, PHONE_PURPOSE)


def _set_email(member: Member, data_key: bytes, email: str | None) -> None:
    if email is None:
        member.email_ciphertext = member.email_index = None
        return
    member.email_ciphertext = encrypt_field(data_key, email, field_aad(member.id, "email"))
    member.email_index = blind_index(email, EMAIL_PURPOSE)


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


def _unwrap(member_id: uuid.UUID, wrapped: bytes | None) -> bytes | None:
    return unwrap_data_key(wrapped, member_id.bytes) if wrapped is not None else None


# --- changes -----------------------------------------------------------------------------------


async def _locked(session: AsyncSession, member_id: uuid.UUID) -> tuple[Member, bytes | None]:
    row = (
        await session.exec(
            select(Member, MemberKey.wrapped_key)
            .outerjoin(MemberKey, col(MemberKey.member_id) == col(Member.id))
            .where(col(Member.id) == member_id)
            .with_for_update(of=Member)
        )
    ).first()
    if row is None:
        raise NotFound("no member with this id", id=str(member_id))
    member, wrapped = row
    return member, _unwrap(member.id, wrapped)


def _require_editor(actor: Principal, member_id: uuid.UUID) -> Access:
    """The member themself or an operator; customer service reads masked data and edits nothing."""
    require_authenticated(actor)
    access = access_for(actor, member_id)
    if access is not Access.FULL:
        raise Forbidden("a member's profile can be changed only by that member or an operator")
    return access


def _require_editable(member: Member, actor: Principal) -> None:
    if member.status == Status.ERASED.value:
        raise Conflict("this member has been erased", id=str(member.id))
    if member.status == Status.SUSPENDED.value and not actor.is_operator:
        raise Forbidden("this membership is suspended; contact customer service", id=str(member.id))


@dataclass(frozen=True)
class ProfileChanges:
    """A partial update: KEEP leaves a field alone; None clears an optional one."""

    display_name: str | Literal[_Keep.KEEP] = KEEP
    phone: str | Literal[_Keep.KEEP] = KEEP
    email: str | None | Literal[_Keep.KEEP] = KEEP
    birthday: str | MonthDay | None | Literal[_Keep.KEEP] = KEEP


async def update_profile(
    db: Database, actor: Principal, member_id: uuid.UUID, changes: ProfileChanges, *, now: datetime | None = None
) -> MemberView:
    """Display name, phone, email and birthday. The birthday may change once per 365 days (it
    drives birthday rewards); operators may correct it at any time."""
    _require_editor(actor, member_id)
    now = now or utcnow()
    # Validate everything before touching the database: a bad field changes nothing.
    name = normalise_display_name(changes.display_name) if changes.display_name is not KEEP else KEEP
    phone = normalise_phone(changes.phone) if changes.phone is not KEEP else KEEP
    email: str | None | _Keep = changes.email
    if email is not KEEP and email is not None:
        email = normalise_email(email) if email.strip() else None
    birthday = _birthday(changes.birthday) if changes.birthday is not KEEP else KEEP
    try:
        async with db.transaction() as session:
            member, data_key = await _locked(session, member_id)
            _require_editable(member, actor)
            assert data_key is not None  # only erased members lack a key
            if name is not KEEP:
                member.display_name = name
            if phone is not KEEP:
                _set_phone(member, data_key, phone)
            if email is not KEEP:
                _set_email(member, data_key, email)
            if birthday is not KEEP:
                _change_birthday(member, birthday, actor, now)
            member.updated_at = now
            session.add(member)
            await session.flush()
    except IntegrityError as error:
        raise _duplicate(error) from None
    return LoadedMember(member, data_key).view(actor, now)


def _change_birthday(member: Member, birthday: MonthDay | None, actor: Principal, now: datetime) -> None:
    current = (
        MonthDay(member.birthday_month, member.birthday_day)
        if member.birthday_month is not None and member.birthday_day is not None
        else None
    )
    if birthday == current:
        return  # not a change: costs nothing
    if member.birthday_set_at is not None and not actor.is_operator:
        allowed_at = member.birthday_set_at + BIRTHDAY_COOLDOWN
        if now < allowed_at:
            raise LimitExceeded(
                "the birthday can be changed once every 365 days",
                field="birthday",
                nextChangeAllowedAt=allowed_at.isoformat(),
            )
    member.birthday_month = birthday.month if birthday else None
    member.birthday_day = birthday.day if birthday else None
    member.birthday_set_at = now


async def update_preferences(
    db: Database,
    actor: Principal,
    member_id: uuid.UUID,
    *,
    categories: Sequence[str] | None = None,
    weekly_notification_cap: int | None = None,
    now: datetime | None = None,
) -> MemberView:
    """Benefit categories of interest (up to 20 short slugs) and the weekly notification cap (0–50)."""
    _require_editor(actor, member_id)
    now = now or utcnow()
    cleaned = _categories(categories) if categories is not None else None
    if weekly_notification_cap is not None and not 0 <= weekly_notification_cap <= NOTIFICATION_CAP_MAX:
        raise InvalidInput(
            f"weeklyNotificationCap must be between 0 and {NOTIFICATION_CAP_MAX}", field="weeklyNotificationCap"
        )
    async with db.transaction() as session:
        member, data_key = await _locked(session, member_id)
        _require_editable(member, actor)
        if cleaned is not None:
            member.categories = cleaned
        if weekly_notification_cap is not None:
            member.weekly_notification_cap = weekly_notification_cap
        member.updated_at = now
        session.add(member)
    return LoadedMember(member, data_key).view(actor, now)


def _categories(values: Sequence[str]) -> list[str]:
    if len(values) > MAX_CATEGORIES:
        raise InvalidInput(f"at most {MAX_CATEGORIES} categories", field="categories")
    cleaned: list[str] = []
    for value in values:
        slug = value.strip().lower() if isinstance(value, str) else ""
        if not CATEGORY.fullmatch(slug):
            raise InvalidInput(
                "a category is 1–32 characters of a–z, 0–9, _ and -, e.g. 'video' or 'coffee'", field="categories"
            )
        if slug not in cleaned:
            cleaned.append(slug)
    return cleaned


# --- status ------------------------------------------------------------------------------------


async def suspend_member(
    db: Database, actor: Principal, member_id: uuid.UUID, reason: str | None = None, *, now: datetime | None = None
) -> MemberView:
    return await _set_status(db, actor, member_id, Status.SUSPENDED, reason, now)


async def reactivate_member(
    db: Database, actor: Principal, member_id: uuid.UUID, reason: str | None = None, *, now: datetime | None = None
) -> MemberView:
    return await _set_status(db, actor, member_id, Status.ACTIVE, reason, now)


async def _set_status(
    db: Database, actor: Principal, member_id: uuid.UUID, to: Status, reason: str | None, now: datetime | None
) -> MemberView:
    require_operator(actor)
    reason = _reason(reason)
    now = now or utcnow()
    async with db.transaction() as session:
        member, data_key = await _locked(session, member_id)
        if member.status == Status.ERASED.value:
            raise Conflict("this member has been erased", id=str(member_id))
        if member.status != to.value:  # the same status again changes nothing (a retry is safe)
            session.add(_audit(member, to, reason, actor, now))
            member.status, member.status_reason, member.status_changed_at = to.value, reason, now
            member.updated_at = now
            session.add(member)
    return LoadedMember(member, data_key).view(actor, now)


def _reason(reason: str | None) -> str | None:
    if reason is None:
        return None
    reason = " ".join(reason.split())
    if len(reason) > MAX_REASON:
        raise InvalidInput(f"reason is longer than {MAX_REASON} characters", field="reason")
    return reason or None


def _audit(member: Member, to: Status, reason: str | None, actor: Principal, now: datetime) -> StatusChange:
    return StatusChange(
        member_id=member.id, from_status=member.status, to_status=to.value, reason=reason,
        actor=f"{actor.kind.value}:{actor.subject}", occurred_at=now,
    )


# --- erasure -----------------------------------------------------------------------------------


async def erase_member(
    db: Database, actor: Principal, member_id: uuid.UUID, reason: str | None = None, *, now: datetime | None = None
) -> MemberView:
    """Destroys the member's personal data: the data key is deleted (crypto-shredding; any copy of
    the ciphertext, backups included, is now noise), the blind indexes and the readable profile
    are cleared. The id, tier and growth stay, so ledgers elsewhere still resolve the member.
    Erasing twice is a no-op."""
    _require_editor(actor, member_id)
    reason = _reason(reason)
    now = now or utcnow()
    async with db.transaction() as session:
        member, _ = await _locked(session, member_id)
        if member.status != Status.ERASED.value:
            session.add(_audit(member, Status.ERASED, reason, actor, now))
            await session.exec(sa.delete(MemberKey).where(col(MemberKey.member_id) == member_id))  # type: ignore[call-overload]
            member.status, member.status_reason, member.status_changed_at = Status.ERASED.value, reason, now
            member.erased_at = now
            member.display_name = None
            member.phone_ciphertext = member.phone_index = None
            member.email_ciphertext = member.email_index = None
            member.birthday_month = member.birthday_day = member.birthday_set_at = None
            member.categories = []
            member.below_threshold_since = None
            member.updated_at = now
            session.add(member)
            await outbox.publish_member_erased(session, member_id=member_id, occurred_at=now)
    return LoadedMember(member, None).view(actor, now)


__all__ = [
    "KEEP",
    "LoadedMember",
    "MemberFilter",
    "ProfileChanges",
    "Status",
    "erase_member",
    "get_member",
    "list_members",
    "load_members",
    "me",
    "reactivate_member",
    "register_member",
    "suspend_member",
    "update_preferences",
    "update_profile",
    "GrowthInput",
    "GrowthKind",
    "GrowthResult",
    "PolicyChange",
    "ReviewSummary",
    "TierProgress",
    "current_policy",
    "current_policy_in",
    "last_review",
    "policy_history",
    "record_growth",
    "review_tiers",
    "rolling_growth",
    "run_tier_review",
    "tier_history",
    "tier_progress",
    "update_policy",
]
