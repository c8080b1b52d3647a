"""The SQL of tiers: policy versions, growth events, tier changes, review runs, and the tier columns
of members' rows."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.errors import NotFound

from services.members.models import GrowthEvent, Member, TierChange, TierPolicyVersion, TierReviewRun
from services.members.tiers.answers import GrowthInput, ReviewSummary
from services.members.tiers.policy import DEFAULT_POLICY, TierPolicy, policy_from_json

_ERASED = "ERASED"


# --- the policy --------------------------------------------------------------------------------


def _policy(row: TierPolicyVersion) -> TierPolicy:
    return policy_from_json(
        row.policy, version=row.version, created_at=row.created_at, created_by=row.created_by, note=row.note
    )


async def current_policy(session: AsyncSession) -> TierPolicy:
    row = (
        await session.exec(select(TierPolicyVersion).order_by(col(TierPolicyVersion.version).desc()).limit(1))
    ).first()
    return _policy(row) if row is not None else DEFAULT_POLICY


async def policies(session: AsyncSession, limit: int) -> list[TierPolicy]:
    """The latest `limit` stored versions, newest first."""
    rows = (
        await session.exec(select(TierPolicyVersion).order_by(col(TierPolicyVersion.version).desc()).limit(limit))
    ).all()
    return [_policy(row) for row in rows]


async def lock_policy(session: AsyncSession) -> None:
    """One policy writer at a time, so versions are consecutive and none is lost."""
    await session.exec(sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext("members.tier_policy"))))  # type: ignore[call-overload]


async def tiers_held_outside(session: AsyncSession, codes: Sequence[str]) -> list[str]:
    """Tiers that members (not erased) hold and that are not among `codes`."""
    rows = await session.exec(
        select(Member.tier).where(col(Member.tier).not_in(list(codes)), col(Member.status) != _ERASED).distinct()
    )
    return sorted(rows.all())


async def add_policy(session: AsyncSession, policy: TierPolicy, *, created_at: datetime) -> TierPolicy:
    row = TierPolicyVersion(
        version=policy.version, policy=policy.as_json(), created_at=created_at, created_by=policy.created_by,
        note=policy.note,
    )
    session.add(row)
    await session.flush()
    return _policy(row)


# --- members' tier columns ---------------------------------------------------------------------


async def lock_member(session: AsyncSession, member_id: uuid.UUID) -> Member:
    member = (await session.exec(select(Member).where(col(Member.id) == member_id).with_for_update())).first()
    if member is None:
        raise NotFound("no member with this id", id=str(member_id))
    return member


async def lock_review_batch(
    session: AsyncSession, as_of: datetime, after: uuid.UUID | None, size: int
) -> Sequence[Member]:
    """The next members (not erased, joined by `as_of`) after `after`, locked in id order, so
    concurrent reviews queue rather than deadlock."""
    query = (
        select(Member)
        .where(col(Member.status) != _ERASED, col(Member.joined_at) <= as_of)
        .order_by(col(Member.id))
        .limit(size)
        .with_for_update()
    )
    if after is not None:
        query = query.where(col(Member.id) > after)
    return (await session.exec(query)).all()


# --- growth ------------------------------------------------------------------------------------


async def insert_growth(
    session: AsyncSession, entry: GrowthInput, *, growth: int, source: str, fingerprint: str, now: datetime
) -> bool:
    """Records the event's growth unless its id is already there; True when it was new."""
    inserted = await session.exec(
        insert(GrowthEvent.__table__)  # type: ignore[arg-type]
        .values(
            event_id=entry.event_id, member_id=entry.member_id, kind=entry.kind.value, growth=growth,
            amount_minor=entry.amount_minor, currency=entry.currency, occurred_at=entry.occurred_at,
            recorded_at=now, source=source[:64], fingerprint=fingerprint,
        )
        .on_conflict_do_nothing(index_elements=["event_id"])
        .returning(GrowthEvent.__table__.c.event_id)  # type: ignore[attr-defined]
    )
    return inserted.first() is not None


async def growth_event(session: AsyncSession, event_id: str) -> GrowthEvent:
    return (await session.exec(select(GrowthEvent).where(col(GrowthEvent.event_id) == event_id))).one()


async def rolling(
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


# --- tier history ------------------------------------------------------------------------------


def add_change(
    session: AsyncSession, member: Member, *, from_tier: str | None, reason: str, rolling: int, policy_version: int,
    at: datetime,
) -> None:
    """A row of the member's tier history, numbered by `member.tier_sequence` (already advanced)."""
    session.add(
        TierChange(
            member_id=member.id, sequence=member.tier_sequence, from_tier=from_tier, to_tier=member.tier,
            reason=reason, rolling_growth=rolling, policy_version=policy_version, occurred_at=at,
        )
    )


async def history(
    session: AsyncSession, member_ids: Sequence[uuid.UUID], limit: int
) -> dict[uuid.UUID, list[TierChange]]:
    """The latest `limit` tier changes of each member, newest first (one query for all of them)."""
    found: dict[uuid.UUID, list[TierChange]] = {member_id: [] for member_id in member_ids}
    if not member_ids:
        return found
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
    rows = (
        await session.exec(
            select(changes).where(ranked.c.n <= limit).order_by(ranked.c.member_id, ranked.c.sequence.desc())
        )
    ).all()
    for change in rows:
        found[change.member_id].append(change)
    return found


# --- review runs -------------------------------------------------------------------------------


async def start_review(session: AsyncSession, *, as_of: datetime, triggered_by: str, now: datetime) -> uuid.UUID:
    run = TierReviewRun(as_of=as_of, triggered_by=triggered_by[:200], started_at=now)
    session.add(run)
    await session.flush()
    return run.id


async def finish_review(session: AsyncSession, run_id: uuid.UUID, total: ReviewSummary, now: datetime) -> None:
    await session.exec(
        sa.update(TierReviewRun)
        .where(col(TierReviewRun.id) == run_id)
        .values(
            finished_at=now, reviewed=total.reviewed, upgraded=total.upgraded, marked=total.marked,
            downgraded=total.downgraded, cleared=total.cleared,
        )
    )  # type: ignore[call-overload]


async def last_finished_review(session: AsyncSession) -> ReviewSummary | None:
    run = (
        await session.exec(
            select(TierReviewRun)
            .where(col(TierReviewRun.finished_at).is_not(None))
            .order_by(col(TierReviewRun.as_of).desc())
            .limit(1)
        )
    ).first()
    if run is None:
        return None
    return ReviewSummary(
        run.as_of, reviewed=run.reviewed, upgraded=run.upgraded, marked=run.marked, downgraded=run.downgraded,
        cleared=run.cleared,
    )
