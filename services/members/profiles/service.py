"""Member operations: registration, reads, profile and preference changes, suspension, erasure.

Each operation takes the acting `Principal` and asks `access` whether it may, validates its input
before touching the database, and makes its change in one transaction (`Database.run_transaction`,
which retries serialization failures and deadlocks). Answers are `MemberView`s: the member as the
actor may see them.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from shared.auth.principals import Principal
from shared.crypto import new_data_key
from shared.database import Database
from shared.errors import Conflict, Forbidden, NotFound
from shared.ids import new_id
from shared.pagination import Page, PageRequest, paginate
from shared.timeutil import require_aware, utcnow

from services.members import access, outbox
from services.members.models import Member
from services.members.profiles import rules, store
from services.members.profiles.answers import MemberFilter, MemberView, ProfileChanges, Status
from services.members.profiles.pii import MonthDay, normalise_display_name, normalise_phone
from services.members.profiles.store import LoadedMember
from services.members.tiers import service as tiers


def _view(loaded: LoadedMember, actor: Principal, now: datetime) -> MemberView:
    return rules.present(loaded.row, lambda: loaded.data_key, actor, now)


def _target(actor: Principal, member_id: uuid.UUID | None) -> uuid.UUID:
    """The member an operation is about: `member_id` when given, else the signed-in member."""
    return member_id if member_id is not None else access.own_member_id(actor)


# --- reading -----------------------------------------------------------------------------------


async def members_by_id(db: Database, actor: Principal, ids: Sequence[uuid.UUID]) -> list[MemberView | None]:
    """Members by id in one query, in the order asked (the entity DataLoader's batch): any signed-in
    caller, each member shown as `actor` may see them; None for an id that was never a member."""
    access.require_signed_in(actor)
    loaded = await store.read(db, ids)
    now = utcnow()
    return [_view(found, actor, now) if found is not None else None for found in loaded]


async def get_member(db: Database, actor: Principal, member_id: uuid.UUID) -> MemberView:
    """A whole-member read: the member themself, staff and services."""
    access.require_reader(actor, member_id)
    (loaded,) = await store.read(db, [member_id])
    if loaded is None:
        raise NotFound("no member with this id", id=str(member_id))
    return _view(loaded, actor, utcnow())


async def me(db: Database, actor: Principal) -> MemberView:
    return await get_member(db, actor, access.own_member_id(actor))


def my_id(actor: Principal) -> uuid.UUID:
    """The signed-in member's id (`me` loads them through the request's DataLoader, so `me` and
    references to the same member in one request share one view: one decryption per field)."""
    return access.own_member_id(actor)


def found(view: MemberView | None, member_id: uuid.UUID) -> MemberView:
    if view is None:
        raise NotFound("no member with this id", id=str(member_id))
    return view


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
    access.require_lister(actor)
    request = PageRequest(first, after, cursor_types=(datetime, uuid.UUID))
    criteria = rules.list_criteria(filter)
    now = now or utcnow()
    async with db.session() as session:
        rows = await store.page(
            session, criteria, now=now, after=request.after_values, limit=request.fetch_limit  # type: ignore[arg-type]
        )
    page = paginate(rows, request, key=lambda m: (m.row.joined_at, m.row.id))
    return Page(
        rows=[_view(m, actor, now) for m in page.rows],
        cursors=page.cursors,
        has_next_page=page.has_next_page,
        has_previous_page=page.has_previous_page,
    )


async def count_members(db: Database, actor: Principal, filter: MemberFilter = MemberFilter(), *, now: datetime | None = None) -> int:
    """Staff only: how many members match the filter (operators' figures: the active members a
    redemption or earning rate is measured against)."""
    access.require_lister(actor)
    criteria = rules.list_criteria(filter)
    async with db.session() as session:
        return await store.count(session, criteria, now=now or utcnow())


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
    access.require_registrar(actor)
    now = now or utcnow()
    joined_at = require_aware(joined_at, "joinedAt") if joined_at is not None else now
    phone_e164 = normalise_phone(phone)
    name = normalise_display_name(display_name)
    email_norm = rules.optional_email(email)
    day = rules.birthday(birthday)
    member_id = new_id()
    data_key = new_data_key()

    async def work(session: AsyncSession) -> Member:
        policy = await tiers.starting_policy(session)
        member = Member(
            id=member_id,
            status=Status.ACTIVE.value,
            tier=policy.lowest.code,
            tier_since=joined_at,
            joined_at=joined_at,
            birthday_set_at=now if day else None,
            created_at=now,
            updated_at=now,
        )
        rules.seal_display_name(member, data_key, name)
        rules.seal_birthday(member, data_key, day)
        rules.seal_phone(member, data_key, phone_e164)
        rules.seal_email(member, data_key, email_norm)
        await store.insert(session, member, data_key, now)
        tiers.record_joined(session, member, policy)
        await session.flush()
        return member

    member = await db.run_transaction(work)
    return _view(LoadedMember(member, data_key), actor, now)


# --- changes -----------------------------------------------------------------------------------


def _require_editable(member: Member, actor: Principal) -> None:
    if member.status == Status.ERASED.value:
        raise Conflict("this member has been erased", id=str(member.id))
    if member.status == Status.SUSPENDED.value and not access.may_edit_when_suspended(actor):
        raise Forbidden("this membership is suspended; contact customer service", id=str(member.id))


async def update_profile(
    db: Database,
    actor: Principal,
    member_id: uuid.UUID | None,
    changes: ProfileChanges,
    *,
    now: datetime | None = None,
) -> MemberView:
    """Display name, phone, email and birthday of `member_id` (None: the signed-in member). The
    birthday may change once per 365 days (it drives birthday rewards); operators may correct it
    at any time."""
    member_id = _target(actor, member_id)
    access.require_editor(actor, member_id)
    now = now or utcnow()
    changes = rules.validated_changes(changes)  # a bad field changes nothing

    async def work(session: AsyncSession) -> LoadedMember:
        loaded = await store.lock(session, member_id)
        _require_editable(loaded.row, actor)
        assert loaded.data_key is not None  # only erased members lack a key
        rules.apply_changes(
            loaded.row, loaded.data_key, changes, cooldown_applies=access.bound_by_birthday_cooldown(actor), now=now
        )
        session.add(loaded.row)
        await store.flush(session)
        return loaded

    return _view(await db.run_transaction(work), actor, now)


async def update_preferences(
    db: Database,
    actor: Principal,
    member_id: uuid.UUID | None,
    *,
    categories: Sequence[str] | None = None,
    weekly_notification_cap: int | None = None,
    now: datetime | None = None,
) -> MemberView:
    """Benefit categories of interest (up to 20 short slugs) and the weekly notification cap (0–50)."""
    member_id = _target(actor, member_id)
    access.require_editor(actor, member_id)
    now = now or utcnow()
    cleaned = rules.categories(categories) if categories is not None else None
    cap = rules.notification_cap(weekly_notification_cap)

    async def work(session: AsyncSession) -> LoadedMember:
        loaded = await store.lock(session, member_id)
        member = loaded.row
        _require_editable(member, actor)
        if cleaned is not None:
            member.categories = cleaned
        if cap is not None:
            member.weekly_notification_cap = cap
        member.updated_at = now
        session.add(member)
        return loaded

    return _view(await db.run_transaction(work), actor, now)


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
    access.require_status_changer(actor)
    reason = rules.reason(reason)
    now = now or utcnow()

    async def work(session: AsyncSession) -> LoadedMember:
        loaded = await store.lock(session, member_id)
        member = loaded.row
        if member.status == Status.ERASED.value:
            raise Conflict("this member has been erased", id=str(member_id))
        if member.status != to.value:  # the same status again changes nothing (a retry is safe)
            store.add_status_change(session, member, to, reason, access.actor_label(actor), now)
            member.status, member.status_reason, member.status_changed_at = to.value, reason, now
            member.updated_at = now
            session.add(member)
            await outbox.publish_status_changed(session, member_id=member_id, status=to.value, occurred_at=now)
        return loaded

    return _view(await db.run_transaction(work), actor, now)


# --- erasure -----------------------------------------------------------------------------------


async def erase_member(
    db: Database,
    actor: Principal,
    member_id: uuid.UUID | None,
    reason: str | None = None,
    *,
    now: datetime | None = None,
) -> MemberView:
    """Destroys the personal data of `member_id` (None: the signed-in member): the data key is
    deleted (crypto-shredding; any copy of the ciphertext, backups included, is now noise), the
    blind indexes and the readable profile are cleared. The id, tier and growth stay, so ledgers
    elsewhere still resolve the member. Erasing twice is a no-op."""
    member_id = _target(actor, member_id)
    access.require_editor(actor, member_id)
    reason = rules.reason(reason)
    now = now or utcnow()

    async def work(session: AsyncSession) -> Member:
        member = (await store.lock(session, member_id)).row
        if member.status != Status.ERASED.value:
            store.add_status_change(session, member, Status.ERASED, reason, access.actor_label(actor), now)
            await store.delete_key(session, member_id)
            rules.forget(member, reason, now)
            session.add(member)
            await outbox.publish_member_erased(session, member_id=member_id, occurred_at=now)
        return member

    return _view(LoadedMember(await db.run_transaction(work), None), actor, now)
