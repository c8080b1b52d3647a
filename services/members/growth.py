"""Growth value and tiers: recording growth, the tier policy, upgrades, the tier review.

Growth is a qualifying measure, separate from spendable points. It counts over a rolling window
(12 months by default): a member holds the highest tier whose threshold their rolling growth
reaches. Upgrades happen at once, when growth arrives. Downgrades happen only in the review, one
level at a time and only after a grace period: the first review that finds a member below their
tier marks them; a review at least `grace_days` later that still finds them below downgrades them.
Every change is a row in the tier history and a `members.TierChanged` event in the outbox.
"""

from __future__ import annotations

import enum
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.auth.principals import Principal, require_operator, require_service
from shared.database import Database
from shared.errors import Conflict, IdempotencyKeyReused, InvalidInput, NotFound
from shared.idempotency import fingerprint
from shared.timeutil import require_aware, utcnow

from services.members import outbox
from services.members.models import GrowthEvent, Member, TierChange, TierPolicyVersion, TierReviewRun
from services.members.policy import (
    DEFAULT_POLICY,
    Tier,
    TierPolicy,
    check_currency,
    policy_from_json,
    tiers_from_pairs,
)

MAX_EVENT_ID = 200
MAX_AMOUNT_MINOR = 10**12
CLOCK_SKEW = timedelta(minutes=5)
_EVENT_ID = re.compile(r"[\x21-\x7e]{1,200}")  # printable ASCII, no spaces
REVIEW_BATCH = 500


class GrowthKind(str, enum.Enum):
    PURCHASE = "PURCHASE"  # spend: growth per currency unit
    RETURN = "RETURN"  # a refund takes back the growth of the amount refunded
    REVIEW = "REVIEW"  # interactions: a fixed growth value each, set in the policy
    REFERRAL = "REFERRAL"


@dataclass(frozen=True)
class GrowthInput:
    event_id: str
    member_id: uuid.UUID
    kind: GrowthKind
    occurred_at: datetime
    amount_minor: int | None = None
    currency: str | None = None


@dataclass(frozen=True)
class GrowthResult:
    event_id: str
    member_id: uuid.UUID
    growth: int  # what this event is worth (also when it was a redelivery)
    duplicate: bool  # seen before: nothing changed this time
    previous_tier: str
    tier: str
    rolling_growth: int


# --- policy ------------------------------------------------------------------------------------


async def current_policy_in(session: AsyncSession) -> TierPolicy:
    row = (
        await session.exec(select(TierPolicyVersion).order_by(col(TierPolicyVersion.version).desc()).limit(1))
    ).first()
    return _policy(row) if row is not None else DEFAULT_POLICY


async def current_policy(db: Database) -> TierPolicy:
    async with db.session() as session:
        return await current_policy_in(session)


async def policy_history(db: Database, actor: Principal, limit: int = 20) -> list[TierPolicy]:
    """Every version, newest first (operators audit who changed what)."""
    require_operator(actor)
    limit = _limit(limit)
    async with db.session() as session:
        rows = (
            await session.exec(select(TierPolicyVersion).order_by(col(TierPolicyVersion.version).desc()).limit(limit))
        ).all()
    policies = [_policy(row) for row in rows]
    if len(policies) < limit and (not policies or policies[-1].version > DEFAULT_POLICY.version):
        policies.append(DEFAULT_POLICY)  # the defaults were in force before the first stored change
    return policies


def _policy(row: TierPolicyVersion) -> TierPolicy:
    return policy_from_json(
        row.policy, version=row.version, created_at=row.created_at, created_by=row.created_by, note=row.note
    )


@dataclass(frozen=True)
class PolicyChange:
    """A partial change of the policy; None keeps the current value."""

    tiers: Sequence[tuple[str, int]] | None = None
    window_months: int | None = None
    grace_days: int | None = None
    purchase_growth_per_unit: int | None = None
    review_growth: int | None = None
    referral_growth: int | None = None
    note: str | None = None


async def update_policy(db: Database, actor: Principal, change: PolicyChange) -> TierPolicy:
    """A new policy version (operators only). Tiers that members hold cannot be removed: move them
    first (a policy that strands members in a tier it does not know would be ambiguous)."""
    require_operator(actor)
    if change.note is not None and len(change.note) > 500:
        raise InvalidInput("note is longer than 500 characters", field="note")

    async def work(session: AsyncSession) -> TierPolicy:
        # One policy writer at a time, so versions are consecutive and none is lost.
        await session.exec(sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext("members.tier_policy"))))  # type: ignore[call-overload]
        current = await current_policy_in(session)
        updates = {
            name: value
            for name in ("window_months", "grace_days", "purchase_growth_per_unit", "review_growth", "referral_growth")
            if (value := getattr(change, name)) is not None
        }
        if change.tiers is not None:
            updates["tiers"] = tiers_from_pairs(change.tiers)
        proposed = replace(current, **updates)  # validates
        if proposed.as_json() == current.as_json():
            return current  # nothing changed: no new version
        codes = [tier.code for tier in proposed.tiers]
        stranded = (
            await session.exec(
                select(Member.tier)
                .where(col(Member.tier).not_in(codes), col(Member.status) != "ERASED")
                .distinct()
            )
        ).all()
        if stranded:
            raise Conflict(
                f"members still hold tier(s) {', '.join(sorted(stranded))}", field="tiers", tiers=sorted(stranded)
            )
        row = TierPolicyVersion(
            version=current.version + 1,
            policy=proposed.as_json(),
            created_at=utcnow(),
            created_by=f"{actor.kind.value}:{actor.subject}",
            note=change.note,
        )
        session.add(row)
        await session.flush()
        return _policy(row)

    return await db.run_transaction(work)


# --- growth ------------------------------------------------------------------------------------


async def record_growth(
    db: Database, actor: Principal, entry: GrowthInput, *, now: datetime | None = None
) -> GrowthResult:
    """Adds growth for one event, once: the event id is the idempotency key, so a redelivery finds
    the first record and changes nothing (the same id with other content is IDEMPOTENCY_KEY_REUSED).
    Alliance services only (points feeds purchases and returns; engagement feeds interactions)."""
    require_service(actor)
    now = now or utcnow()
    entry = validated(entry, now)
    source = actor.subject or "service"
    return await db.run_transaction(lambda session: apply_growth(session, entry, source=source, now=now))


async def apply_growth(session: AsyncSession, entry: GrowthInput, *, source: str, now: datetime) -> GrowthResult:
    """`record_growth` inside the caller's transaction (the event inbox runs it in its own).
    `entry` must have passed `validated`."""
    member = await _lock_member(session, entry.member_id)
    policy = await current_policy_in(session)
    growth = 0 if member.status == "ERASED" else _growth_of(entry, policy)
    print_ = _fingerprint(entry)
    inserted = await session.exec(
        insert(GrowthEvent.__table__)  # type: ignore[arg-type]
        .values(
            event_id=entry.event_id, member_id=entry.member_id, kind=entry.kind.value, growth=growth,
            amount_minor=entry.amount_minor, currency=entry.currency, occurred_at=entry.occurred_at,
            recorded_at=now, source=source[:64], fingerprint=print_,
        )
        .on_conflict_do_nothing(index_elements=["event_id"])
        .returning(GrowthEvent.__table__.c.event_id)  # type: ignore[attr-defined]
    )
    if inserted.first() is None:
        return await _replayed(session, entry, print_, member, policy, now)
    previous = member.tier
    rolling = 0
    if member.status != "ERASED":  # an erased member's growth is kept as a record, nothing more
        _touch(member, entry.occurred_at)
        rolling = (await _rolling_in(session, [member.id], now, policy, bounded=False)).get(member.id, 0)
        qualifying = policy.qualifying(rolling)
        if policy.rank(qualifying.code) > policy.rank(member.tier) or not policy.has(member.tier):
            if qualifying.code != member.tier:
                await _change_tier(session, member, qualifying, "UPGRADE", rolling, policy, now)
        elif member.below_threshold_since is not None and rolling >= policy.tier(member.tier).threshold:
            member.below_threshold_since = None  # back above the line before the grace ran out
        member.updated_at = now
        session.add(member)
    return GrowthResult(entry.event_id, member.id, growth, False, previous, member.tier, rolling)


async def record_activity(session: AsyncSession, member_id: uuid.UUID, at: datetime) -> None:
    """Activity without growth (a redemption, say) keeps a member out of AT_RISK."""
    member = await _lock_member(session, member_id)
    if member.status != "ERASED":
        _touch(member, at)
        session.add(member)


def _touch(member: Member, at: datetime) -> None:
    if member.last_activity_at is None or at > member.last_activity_at:
        member.last_activity_at = at


def validated(entry: GrowthInput, now: datetime) -> GrowthInput:
    """The entry with its kind, time and currency checked and normalised; InvalidInput otherwise."""
    if not isinstance(entry.event_id, str) or not _EVENT_ID.fullmatch(entry.event_id):
        raise InvalidInput(f"eventId must be 1–{MAX_EVENT_ID} printable characters without spaces", field="eventId")
    try:
        kind = GrowthKind(entry.kind)
    except ValueError:
        raise InvalidInput(f"kind must be one of {', '.join(k.value for k in GrowthKind)}", field="kind") from None
    occurred_at = require_aware(entry.occurred_at, "occurredAt")
    if occurred_at > now + CLOCK_SKEW:
        raise InvalidInput("occurredAt is in the future", field="occurredAt")
    amount, currency = entry.amount_minor, entry.currency
    if kind in (GrowthKind.PURCHASE, GrowthKind.RETURN):
        if isinstance(amount, bool) or not isinstance(amount, int) or not 0 < amount <= MAX_AMOUNT_MINOR:
            raise InvalidInput(f"amountMinor must be between 1 and {MAX_AMOUNT_MINOR}", field="amountMinor")
        currency = check_currency(currency)  # type: ignore[arg-type]
    elif amount is not None or currency is not None:
        raise InvalidInput(f"a {kind.value} carries no amount", field="amountMinor")
    return replace(entry, kind=kind, occurred_at=occurred_at, currency=currency)


def _growth_of(entry: GrowthInput, policy: TierPolicy) -> int:
    if entry.kind is GrowthKind.PURCHASE:
        return policy.purchase_growth(entry.amount_minor or 0, entry.currency or "")
    if entry.kind is GrowthKind.RETURN:
        return -policy.purchase_growth(entry.amount_minor or 0, entry.currency or "")
    return policy.review_growth if entry.kind is GrowthKind.REVIEW else policy.referral_growth


def _fingerprint(entry: GrowthInput) -> str:
    # What the event says, not who delivered it: the same event may come by mutation and by the inbox.
    return fingerprint(
        {
            "member": str(entry.member_id), "kind": entry.kind.value, "amount": entry.amount_minor,
            "currency": entry.currency, "at": entry.occurred_at.isoformat(),
        }
    )


async def _replayed(
    session: AsyncSession, entry: GrowthInput, print_: str, member: Member, policy: TierPolicy, now: datetime
) -> GrowthResult:
    first = (await session.exec(select(GrowthEvent).where(col(GrowthEvent.event_id) == entry.event_id))).one()
    if first.fingerprint != print_:
        raise IdempotencyKeyReused("this eventId was already recorded with different content", eventId=entry.event_id)
    rolling = (await _rolling_in(session, [member.id], now, policy, bounded=False)).get(member.id, 0)
    return GrowthResult(entry.event_id, member.id, first.growth, True, member.tier, member.tier, rolling)


async def _lock_member(session: AsyncSession, member_id: uuid.UUID) -> Member:
    member = (await session.exec(select(Member).where(col(Member.id) == member_id).with_for_update())).first()
    if member is None:
        raise NotFound("no member with this id", id=str(member_id))
    return member


async def _rolling_in(
    session: AsyncSession,
    member_ids: Sequence[uuid.UUID],
    as_of: datetime,
    policy: TierPolicy,
    *,
    bounded: bool = True,
) -> dict[uuid.UUID, int]:
    """Rolling growth per member: events after the window start, up to and including `as_of`.
    Unbounded (for "now"), events stamped a moment after `as_of` count too: concurrent deliveries
    and producers' clocks are not ordered with ours. Returns can outweigh purchases in a window;
    growth never reads below zero."""
    if not member_ids:
        return {}
    conditions = [
        col(GrowthEvent.member_id).in_(list(member_ids)),
        col(GrowthEvent.occurred_at) > policy.window_start(as_of),
    ]
    if bounded:
        conditions.append(col(GrowthEvent.occurred_at) <= as_of)
    rows = (
        await session.exec(
            select(GrowthEvent.member_id, sa.func.sum(GrowthEvent.growth))
            .where(*conditions)
            .group_by(col(GrowthEvent.member_id))
        )
    ).all()
    return {member_id: max(int(total or 0), 0) for member_id, total in rows}


async def rolling_growth(
    db: Database, member_ids: Sequence[uuid.UUID], *, as_of: datetime | None = None, policy: TierPolicy | None = None
) -> dict[uuid.UUID, int]:
    """Rolling growth now (default), or as of a past instant."""
    async with db.session() as session:
        policy = policy or await current_policy_in(session)
        found = await _rolling_in(session, member_ids, as_of or utcnow(), policy, bounded=as_of is not None)
    return {member_id: found.get(member_id, 0) for member_id in member_ids}


async def _change_tier(
    session: AsyncSession, member: Member, to: Tier, reason: str, rolling: int, policy: TierPolicy, at: datetime
) -> None:
    previous = member.tier
    member.tier_sequence += 1
    member.tier, member.tier_since = to.code, at
    member.below_threshold_since = None
    session.add(
        TierChange(
            member_id=member.id, sequence=member.tier_sequence, from_tier=previous, to_tier=to.code, reason=reason,
            rolling_growth=rolling, policy_version=policy.version, occurred_at=at,
        )
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


# --- what members see --------------------------------------------------------------------------


@dataclass(frozen=True)
class TierProgress:
    tier: str
    rolling_growth: int
    window_start: datetime
    window_end: datetime
    next_tier: str | None  # None at the top tier
    growth_to_next_tier: int | None
    growth_to_keep_tier: int  # 0 when the member already holds enough
    below_threshold_since: datetime | None
    downgrade_review_from: datetime | None  # first review that may downgrade, while below
    policy_version: int


def tier_progress(
    policy: TierPolicy, tier: str, below_threshold_since: datetime | None, rolling: int, as_of: datetime
) -> TierProgress:
    current = policy.tier(tier)
    above = policy.above(tier)
    since = below_threshold_since
    return TierProgress(
        tier=tier,
        rolling_growth=rolling,
        window_start=policy.window_start(as_of),
        window_end=as_of,
        next_tier=above.code if above else None,
        growth_to_next_tier=max(above.threshold - rolling, 0) if above else None,
        growth_to_keep_tier=max(current.threshold - rolling, 0),
        below_threshold_since=since,
        downgrade_review_from=since + timedelta(days=policy.grace_days) if since else None,
        policy_version=policy.version,
    )


async def tier_history(db: Database, member_ids: Sequence[uuid.UUID], limit: int = 20) -> dict[uuid.UUID, list[TierChange]]:
    """The latest `limit` tier changes of each member, newest first (one query for all of them)."""
    limit = _limit(limit)
    if not member_ids:
        return {}
    ranked = (
        select(
            TierChange,
            sa.func.row_number()
            .over(partition_by=col(TierChange.member_id), order_by=col(TierChange.sequence).desc())
            .label("n"),
        )
        .where(col(TierChange.member_id).in_(list(member_ids)))
        .subquery()
    )
    changes = sa.orm.aliased(TierChange, ranked)
    async with db.session() as session:
        rows = (
            await session.exec(
                select(changes).where(ranked.c.n <= limit).order_by(ranked.c.member_id, ranked.c.sequence.desc())
            )
        ).all()
    found: dict[uuid.UUID, list[TierChange]] = {member_id: [] for member_id in member_ids}
    for change in rows:
        found[change.member_id].append(change)
    return found


def _limit(limit: int) -> int:
    if not 1 <= limit <= 100:
        raise InvalidInput("limit must be between 1 and 100", field="limit")
    return limit


# --- the review --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewSummary:
    as_of: datetime
    reviewed: int = 0
    upgraded: int = 0
    marked: int = 0  # found below their tier for the first time: the grace period starts
    downgraded: int = 0
    cleared: int = 0  # back above their tier's threshold during the grace period

    def __add__(self, other: ReviewSummary) -> ReviewSummary:
        return ReviewSummary(
            self.as_of,
            *(getattr(self, f) + getattr(other, f) for f in ("reviewed", "upgraded", "marked", "downgraded", "cleared")),
        )


async def review_tiers(
    db: Database, actor: Principal, *, as_of: datetime | None = None, now: datetime | None = None
) -> ReviewSummary:
    """The operator's way to run the review. `asOf` may not be in the future (growth could still
    arrive before then); by default it is now."""
    require_operator(actor)
    now = now or utcnow()
    as_of = require_aware(as_of, "asOf") if as_of is not None else now
    if as_of > now + CLOCK_SKEW:
        raise InvalidInput("asOf is in the future", field="asOf")
    return await run_tier_review(db, as_of=as_of, triggered_by=f"{actor.kind.value}:{actor.subject}")


async def run_tier_review(
    db: Database, *, as_of: datetime, triggered_by: str = "schedule", batch_size: int = REVIEW_BATCH
) -> ReviewSummary:
    """Reviews every member's tier as of `as_of`. Idempotent: running it again for the same
    instant changes nothing more. A member whose tier state is newer than `as_of` is left alone
    (a review never undoes what happened after the moment it looks at)."""
    as_of = require_aware(as_of, "asOf")
    run = TierReviewRun(as_of=as_of, triggered_by=triggered_by[:200], started_at=utcnow())
    async with db.transaction() as session:
        session.add(run)
    total = ReviewSummary(as_of)
    after: uuid.UUID | None = None
    while True:
        last, summary = await db.run_transaction(lambda s: _review_batch(s, as_of, after, batch_size))
        total += summary
        if last is None:
            break
        after = last
    async with db.transaction() as session:
        await session.exec(
            sa.update(TierReviewRun)
            .where(col(TierReviewRun.id) == run.id)
            .values(
                finished_at=utcnow(), reviewed=total.reviewed, upgraded=total.upgraded, marked=total.marked,
                downgraded=total.downgraded, cleared=total.cleared,
            )
        )  # type: ignore[call-overload]
    return total


async def _review_batch(
    session: AsyncSession, as_of: datetime, after: uuid.UUID | None, batch_size: int
) -> tuple[uuid.UUID | None, ReviewSummary]:
    policy = await current_policy_in(session)
    query = (
        select(Member)
        .where(col(Member.status) != "ERASED", col(Member.joined_at) <= as_of)
        .order_by(col(Member.id))
        .limit(batch_size)
        .with_for_update()  # in id order, so concurrent reviews queue rather than deadlock
    )
    if after is not None:
        query = query.where(col(Member.id) > after)
    members = (await session.exec(query)).all()
    if not members:
        return None, ReviewSummary(as_of)
    sums = await _rolling_in(session, [m.id for m in members], as_of, policy)
    counts = {"reviewed": 0, "upgraded": 0, "marked": 0, "downgraded": 0, "cleared": 0}
    grace = timedelta(days=policy.grace_days)
    for member in members:
        since = member.below_threshold_since
        if member.tier_since > as_of or (since is not None and since > as_of):
            continue
        counts["reviewed"] += 1
        rolling = sums.get(member.id, 0)
        qualifying = policy.qualifying(rolling)
        if policy.rank(qualifying.code) > policy.rank(member.tier) or not policy.has(member.tier):
            if qualifying.code != member.tier:
                await _change_tier(session, member, qualifying, "UPGRADE", rolling, policy, as_of)
                counts["upgraded"] += 1
        elif rolling >= policy.tier(member.tier).threshold:
            if since is not None:
                member.below_threshold_since = None
                session.add(member)
                counts["cleared"] += 1
        elif since is None:
            member.below_threshold_since = as_of
            session.add(member)
            counts["marked"] += 1
        # Strictly after the mark: a re-run at the same instant must not act twice (grace may be 0).
        elif as_of > since and as_of >= since + grace and member.tier_since < as_of:
            lower = policy.below(member.tier)
            assert lower is not None  # the lowest tier's threshold is 0: nobody is below it
            await _change_tier(session, member, lower, "DOWNGRADE", rolling, policy, as_of)
            if rolling < lower.threshold:
                member.below_threshold_since = as_of  # still below: the next level's grace starts now
            counts["downgraded"] += 1
    return members[-1].id, ReviewSummary(as_of, **counts)


async def last_review(db: Database) -> TierReviewRun | None:
    async with db.session() as session:
        return (
            await session.exec(
                select(TierReviewRun)
                .where(col(TierReviewRun.finished_at).is_not(None))
                .order_by(col(TierReviewRun.as_of).desc())
                .limit(1)
            )
        ).first()
