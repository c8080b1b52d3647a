"""Tier operations: the policy, growth and activity, progress and history, the tier review.

Each operation takes the acting `Principal` and asks `access` whether it may; a change runs in one
transaction (`Database.run_transaction`, which retries serialization failures and deadlocks).
Every tier change is a row in the tier history and a `members.TierChanged` event in the outbox.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from shared.auth.principals import Principal
from shared.database import Database
from shared.errors import Conflict, IdempotencyKeyReused
from shared.timeutil import require_aware, utcnow

from services.members import access, outbox
from services.members.models import Member
from services.members.profiles.answers import MemberView
from services.members.tiers import rules, store
from services.members.tiers.answers import (
    GrowthInput,
    GrowthResult,
    PolicyChange,
    PolicyView,
    ReviewSummary,
    Tier,
    TierChangeView,
    TierProgress,
)
from services.members.tiers.policy import DEFAULT_POLICY, TierPolicy, tiers_from_pairs
from services.members.tiers.rules import Decision, Step

REVIEW_BATCH = 500
_POLICY_NUMBERS = ("window_months", "grace_days", "purchase_growth_per_unit", "review_growth", "referral_growth")


# --- the policy --------------------------------------------------------------------------------


def _view(policy: TierPolicy, actor: Principal) -> PolicyView:
    audit = access.sees_policy_audit(actor)
    return PolicyView(
        version=policy.version,
        tiers=policy.tiers,
        window_months=policy.window_months,
        grace_days=policy.grace_days,
        purchase_growth_per_unit=policy.purchase_growth_per_unit,
        review_growth=policy.review_growth,
        referral_growth=policy.referral_growth,
        created_at=policy.created_at,
        created_by=policy.created_by if audit else None,
        note=policy.note if audit else None,
    )


async def current_policy(db: Database, actor: Principal) -> PolicyView:
    access.require_signed_in(actor)
    async with db.session() as session:
        return _view(await store.current_policy(session), actor)


async def policy_history(db: Database, actor: Principal, limit: int = 20) -> list[PolicyView]:
    """Every version, newest first (operators audit who changed what)."""
    access.require_tier_admin(actor)
    limit = rules.history_limit(limit)
    async with db.session() as session:
        policies = await store.policies(session, limit)
    if len(policies) < limit and (not policies or policies[-1].version > DEFAULT_POLICY.version):
        policies.append(DEFAULT_POLICY)  # the defaults were in force before the first stored change
    return [_view(policy, actor) for policy in policies]


async def update_policy(db: Database, actor: Principal, change: PolicyChange) -> PolicyView:
    """A new policy version (operators only). Tiers that members hold cannot be removed: move them
    first (a policy that strands members in a tier it does not know would be ambiguous)."""
    access.require_tier_admin(actor)
    note = rules.policy_note(change.note)

    async def work(session: AsyncSession) -> TierPolicy:
        await store.lock_policy(session)
        current = await store.current_policy(session)
        updates: dict[str, object] = {
            name: value for name in _POLICY_NUMBERS if (value := getattr(change, name)) is not None
        }
        if change.tiers is not None:
            updates["tiers"] = tiers_from_pairs(change.tiers)
        proposed = replace(current, **updates)  # validates
        if proposed.as_json() == current.as_json():
            return current  # nothing changed: no new version
        stranded = await store.tiers_held_outside(session, [tier.code for tier in proposed.tiers])
        if stranded:
            raise Conflict(f"members still hold tier(s) {', '.join(stranded)}", field="tiers", tiers=stranded)
        version = replace(proposed, version=current.version + 1, created_by=access.actor_label(actor), note=note)
        return await store.add_policy(session, version, created_at=utcnow())

    return _view(await db.run_transaction(work), actor)


# --- for registration, inside its transaction ---------------------------------------------------


async def starting_policy(session: AsyncSession) -> TierPolicy:
    """The policy a new member joins under: they start on its lowest tier."""
    return await store.current_policy(session)


def record_joined(session: AsyncSession, member: Member, policy: TierPolicy) -> None:
    """The first row of a new member's tier history (their row must be flushed)."""
    store.add_change(
        session, member, from_tier=None, reason="JOINED", rolling=0, policy_version=policy.version, at=member.joined_at
    )


# --- growth and activity -----------------------------------------------------------------------


async def record_growth(
    db: Database, actor: Principal, entry: GrowthInput, *, now: datetime | None = None
) -> GrowthResult:
    """Adds growth for one event, once: the event id is the idempotency key, so a redelivery finds
    the first record and changes nothing (the same id with other content is IDEMPOTENCY_KEY_REUSED).
    Alliance services only (points feeds purchases and returns; engagement feeds interactions)."""
    access.require_growth_source(actor)
    now = now or utcnow()
    entry = rules.validated(entry, now)
    source = actor.subject or "service"
    return await db.run_transaction(lambda session: _apply_growth(session, entry, source=source, now=now))


async def growth_from_event(
    session: AsyncSession, actor: Principal, entry: GrowthInput, *, source: str
) -> GrowthResult:
    """`record_growth` inside the event inbox's transaction; `source` is the event's producer."""
    access.require_growth_source(actor)
    now = utcnow()
    return await _apply_growth(session, rules.validated(entry, now), source=source, now=now)


async def activity_from_event(session: AsyncSession, actor: Principal, member_id: uuid.UUID, at: datetime) -> None:
    """Activity without growth (a redemption, say) keeps a member out of AT_RISK; inside the event
    inbox's transaction."""
    access.require_growth_source(actor)
    member = await store.lock_member(session, member_id)
    if member.status != "ERASED":
        _touch(member, at)
        session.add(member)


def _touch(member: Member, at: datetime) -> None:
    if member.last_activity_at is None or at > member.last_activity_at:
        member.last_activity_at = at


async def _apply_growth(session: AsyncSession, entry: GrowthInput, *, source: str, now: datetime) -> GrowthResult:
    """`entry` must have passed `rules.validated`."""
    member = await store.lock_member(session, entry.member_id)
    policy = await store.current_policy(session)
    erased = member.status == "ERASED"
    growth = 0 if erased else rules.growth_of(entry, policy)
    print_ = rules.fingerprint_of(entry)
    if not await store.insert_growth(session, entry, growth=growth, source=source, fingerprint=print_, now=now):
        first = await store.growth_event(session, entry.event_id)
        if first.fingerprint != print_:
            raise IdempotencyKeyReused("this eventId was already recorded with different content", eventId=entry.event_id)
        rolling = await _rolling_now(session, member.id, now, policy)
        return GrowthResult(entry.event_id, member.id, first.growth, True, member.tier, member.tier, rolling)
    previous = member.tier
    rolling = 0
    if not erased:  # an erased member's growth is kept as a record, nothing more
        _touch(member, entry.occurred_at)
        rolling = await _rolling_now(session, member.id, now, policy)
        await _decide(session, member, rules.on_growth(policy, member.tier, member.below_threshold_since, rolling),
                      rolling, policy, now)
        member.updated_at = now
        session.add(member)
    return GrowthResult(entry.event_id, member.id, growth, False, previous, member.tier, rolling)


async def _rolling_now(session: AsyncSession, member_id: uuid.UUID, now: datetime, policy: TierPolicy) -> int:
    return (await store.rolling(session, [member_id], now, policy, bounded=False)).get(member_id, 0)


async def _decide(
    session: AsyncSession, member: Member, decision: Decision, rolling: int, policy: TierPolicy, at: datetime
) -> None:
    """Carries out what growth or the review decided for one locked member."""
    if decision.step is Step.UPGRADE:
        assert decision.to is not None
        await _change_tier(session, member, decision.to, "UPGRADE", rolling, policy, at)
    elif decision.step is Step.DOWNGRADE:
        assert decision.to is not None
        await _change_tier(session, member, decision.to, "DOWNGRADE", rolling, policy, at)
        if decision.still_below:
            member.below_threshold_since = at  # the next level's grace starts now
    elif decision.step is Step.CLEAR:
        member.below_threshold_since = None
    elif decision.step is Step.MARK:
        member.below_threshold_since = at
    session.add(member)


async def _change_tier(
    session: AsyncSession, member: Member, to: Tier, reason: str, rolling: int, policy: TierPolicy, at: datetime
) -> None:
    previous = member.tier
    member.tier_sequence += 1
    member.tier, member.tier_since = to.code, at
    member.below_threshold_since = None
    store.add_change(
        session, member, from_tier=previous, reason=reason, rolling=rolling, policy_version=policy.version, at=at
    )
    session.add(member)
    await outbox.publish_tier_changed(
        session,
        member_id=member.id,
        from_tier=previous,
        to_tier=to.code,
        reason=reason,
        occurred_at=at,
        sequence=member.tier_sequence,
        rolling_growth=rolling,
        policy_version=policy.version,
    )


# --- reads -------------------------------------------------------------------------------------


async def rolling_growth(
    db: Database, actor: Principal, member_ids: Sequence[uuid.UUID], *, as_of: datetime | None = None
) -> dict[uuid.UUID, int]:
    """Rolling growth now (default), or as of a past instant; for those who may read the members."""
    for member_id in member_ids:
        access.require_reader(actor, member_id)
    async with db.session() as session:
        policy = await store.current_policy(session)
        found = await store.rolling(session, member_ids, as_of or utcnow(), policy, bounded=as_of is not None)
    return {member_id: found.get(member_id, 0) for member_id in member_ids}


def _visible(actor: Principal, members: Sequence[MemberView]) -> list[MemberView]:
    return [m for m in members if access.shows_profile(access.access_for(actor, m.id), m.erased)]


async def progress_of(
    db: Database, actor: Principal, members: Sequence[MemberView], *, now: datetime | None = None
) -> list[TierProgress | None]:
    """Each member's standing against the thresholds (None for those `actor` may not see it of);
    one policy read and one growth query for the batch."""
    visible = _visible(actor, members)
    if not visible:
        return [None] * len(members)
    now = now or utcnow()
    async with db.session() as session:
        policy = await store.current_policy(session)
        sums = await store.rolling(session, [m.id for m in visible], now, policy, bounded=False)
    shown = {m.id for m in visible}
    return [
        rules.tier_progress(policy, m.tier, m.below_threshold_since, sums.get(m.id, 0), now) if m.id in shown else None
        for m in members
    ]


async def history_of(
    db: Database, actor: Principal, members: Sequence[MemberView], limit: int = 20
) -> list[list[TierChangeView] | None]:
    """Each member's latest `limit` tier changes, newest first (None for those `actor` may not see
    them of); one query for the batch."""
    visible = _visible(actor, members)
    if not visible:
        return [None] * len(members)
    limit = rules.history_limit(limit)
    async with db.session() as session:
        found = await store.history(session, [m.id for m in visible], limit)
    return [
        [
            TierChangeView(
                sequence=c.sequence, from_tier=c.from_tier, to_tier=c.to_tier, reason=c.reason,
                rolling_growth=c.rolling_growth, policy_version=c.policy_version, occurred_at=c.occurred_at,
            )
            for c in found[m.id]
        ]
        if m.id in found
        else None
        for m in members
    ]


# --- the review --------------------------------------------------------------------------------


async def review_tiers(
    db: Database, actor: Principal, *, as_of: datetime | None = None, now: datetime | None = None
) -> ReviewSummary:
    """The operator's way to run the review. `asOf` may not be in the future (growth could still
    arrive before then); by default it is now."""
    access.require_tier_admin(actor)
    as_of = rules.review_instant(as_of, now or utcnow())
    return await _review(db, as_of, access.actor_label(actor), REVIEW_BATCH)


async def run_tier_review(
    db: Database,
    actor: Principal,
    *,
    as_of: datetime,
    triggered_by: str = "schedule",
    batch_size: int = REVIEW_BATCH,
) -> ReviewSummary:
    """The scheduled review, by members itself, as of any instant."""
    access.require_system(actor)
    return await _review(db, require_aware(as_of, "asOf"), triggered_by, batch_size)


async def last_review(db: Database, actor: Principal) -> ReviewSummary | None:
    """The finished run that looked furthest ahead."""
    access.require_system(actor)
    async with db.session() as session:
        return await store.last_finished_review(session)


async def _review(db: Database, as_of: datetime, triggered_by: str, batch_size: int) -> ReviewSummary:
    """Reviews every member's tier as of `as_of`, in batches of one transaction each. Idempotent:
    running it again for the same instant changes nothing more."""

    async def start(session: AsyncSession) -> uuid.UUID:
        return await store.start_review(session, as_of=as_of, triggered_by=triggered_by, now=utcnow())

    run_id = await db.run_transaction(start)
    total = ReviewSummary(as_of)
    after: uuid.UUID | None = None
    while True:
        last, summary = await db.run_transaction(lambda s: _review_batch(s, as_of, after, batch_size))
        total += summary
        if last is None:
            break
        after = last

    async def finish(session: AsyncSession) -> None:
        await store.finish_review(session, run_id, total, utcnow())

    await db.run_transaction(finish)
    return total


_COUNTED = {Step.UPGRADE: "upgraded", Step.MARK: "marked", Step.DOWNGRADE: "downgraded", Step.CLEAR: "cleared"}


async def _review_batch(
    session: AsyncSession, as_of: datetime, after: uuid.UUID | None, batch_size: int
) -> tuple[uuid.UUID | None, ReviewSummary]:
    policy = await store.current_policy(session)
    members = await store.lock_review_batch(session, as_of, after, batch_size)
    if not members:
        return None, ReviewSummary(as_of)
    sums = await store.rolling(session, [m.id for m in members], as_of, policy)
    counts = dict.fromkeys(("reviewed", *_COUNTED.values()), 0)
    for member in members:
        rolling = sums.get(member.id, 0)
        decision = rules.on_review(
            policy, member.tier, member.tier_since, member.below_threshold_since, rolling, as_of
        )
        if decision is None:
            continue
        counts["reviewed"] += 1
        if decision.step is not Step.STAY:
            await _decide(session, member, decision, rolling, policy, as_of)
            counts[_COUNTED[decision.step]] += 1
    return members[-1].id, ReviewSummary(as_of, **counts)
