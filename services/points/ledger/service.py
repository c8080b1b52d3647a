"""The ledger's own operations: what points keeps about a member (birthday month, tier), and the
upkeep its jobs run (vesting, expiry, expiry notices).

Upkeep finds due work with a plain query, then does it in short transactions of at most
`job_batch_members` members, each re-reading its work under the members' locks: a run racing a
member's own operations or another replica's run does each piece once, and a run that finds
nothing due changes nothing.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from services.points import access, outbox
from services.points.config import get_points_settings
from services.points.directory import MemberDirectory, default_directory
from services.points.ledger import store
from services.points.ledger.answers import Balances, LotsDone
from services.points.ledger.lots import expire, vest
from services.points.ledger.rows import AccountRow, LotRow, TransactionRow
from services.points.ledger.status import STATUSES
from services.points.ledger.unit import LedgerUnit
from shared.auth import Principal
from shared.database import Database, run_unit
from shared.errors import InvalidInput, NotFound
from shared.timeutil import utcnow

log = logging.getLogger("abg.points.jobs")

MAX_TIER_LENGTH = 20


async def set_points_profile(
    db: Database, principal: Principal, *, member_id: uuid.UUID, birthday_month: int | None, directory: MemberDirectory | None = None
) -> Balances:
    """What points keeps about a member besides their tier: the birthday month for the birthday
    multiplier (members does not publish birthdays; a service or an operator sets it here).
    Opens the member's account if needed; answers their balances."""
    access.require_profile_writer(principal)
    if birthday_month is not None and not 1 <= birthday_month <= 12:
        raise InvalidInput("birthdayMonth is 1 to 12", field="birthdayMonth")
    if member_id not in await (directory or default_directory()).existing(db, [member_id]):
        raise NotFound("no such member", memberId=str(member_id))
    await store.set_birthday_month(db, member_id, birthday_month)
    return (await store.balances(db, [member_id]))[member_id]


async def learn_tier(session: AsyncSession, principal: Principal, *, member_id: uuid.UUID, tier: str, sequence: int) -> None:
    """The member's tier as members announced it (TierChanged), in the inbox's transaction; the
    change with the highest sequence wins, whatever order changes arrive in."""
    access.require_system(principal)
    if not 0 < len(tier) <= MAX_TIER_LENGTH:
        raise InvalidInput("TierChanged.toTier must be a tier name")
    await store.record_tier(session, member_id, tier, sequence)


async def learn_status(
    session: AsyncSession, principal: Principal, *, member_id: uuid.UUID, status: str, occurred_at: datetime
) -> None:
    """The member's status as members announced it (MemberStatusChanged, MemberErased), in the
    inbox's transaction: the latest wins, ERASED is final. An erased member's remaining points
    are booked to breakage by the next `close_erased_accounts` run (a ledger unit of its own)."""
    access.require_system(principal)
    if status not in STATUSES:
        raise InvalidInput("a member status is ACTIVE, SUSPENDED or ERASED", field="status")
    await store.record_status(session, member_id, status, occurred_at)


Act = Callable[[LedgerUnit, AccountRow, LotRow], TransactionRow | None]


async def _lots_upkeep(db: Database, due: store.Due, act: Act, now: datetime) -> LotsDone:
    """Runs `act` on every due lot, a batch of members at a time."""
    batch = get_points_settings().job_batch_members
    done = LotsDone()
    while True:
        members = await store.members_with_lots(db, due, limit=batch)
        if not members:
            return done

        async def work(unit: LedgerUnit) -> LotsDone:
            states = await store.lock_members(unit, members)
            lots = await store.lots_of_members(unit, list(states), due)  # read under the locks
            moved = 0
            for lot in lots:
                points = lot.remaining
                act(unit, states[lot.member_id], lot)
                moved += points
            return LotsDone(len(states), len(lots), moved)

        # Counted once the batch has committed (a retried batch must not count twice).
        batch_done = await run_unit(db, LedgerUnit, work, now=now)
        if not batch_done.lots:  # lots due for members with no account: a broken invariant, not a loop
            log.error("points job: lots due for members without accounts: %s", members[:5])
            return done
        done = LotsDone(done.members + batch_done.members, done.lots + batch_done.lots, done.points + batch_done.points)


async def vest_due_lots(db: Database, principal: Principal, *, now: datetime | None = None) -> LotsDone:
    """Pending lots whose return window has passed become available (repaying debt first)."""
    access.require_operator_or_system(principal)
    now = now or utcnow()
    return await _lots_upkeep(db, store.due_to_vest(now), lambda unit, state, lot: vest(unit, state, lot, actor=access.JOB_ACTOR), now)


async def expire_due_lots(db: Database, principal: Principal, *, now: datetime | None = None) -> LotsDone:
    """Points left in lots past their expiry go to their issuers' breakage."""
    access.require_operator_or_system(principal)
    now = now or utcnow()
    return await _lots_upkeep(db, store.due_to_expire(now), lambda unit, state, lot: expire(unit, state, lot, actor=access.JOB_ACTOR), now)


async def close_erased_accounts(db: Database, principal: Principal, *, now: datetime | None = None) -> LotsDone:
    """Erased members' accounts are closed: the points left in their lots (pending or available)
    go to their issuers' breakage at once, so liability no longer counts them."""
    access.require_operator_or_system(principal)
    now = now or utcnow()
    act: Act = lambda unit, state, lot: expire(unit, state, lot, actor=access.JOB_ACTOR, closing=True)  # noqa: E731
    return await _lots_upkeep(db, store.of_closed_accounts(), act, now)


async def announce_expiring(db: Database, principal: Principal, *, now: datetime | None = None) -> tuple[int, int]:
    """Publishes one PointsExpiringSoon per member and expiry date for lots expiring within the
    notice window and not yet announced; returns (lots, events). Needs no member lock: the notice
    rows' keys make each announcement happen once."""
    access.require_operator_or_system(principal)
    now = now or utcnow()
    within = timedelta(days=get_points_settings().expiry_notice_days)

    async def work(unit: LedgerUnit) -> tuple[int, int]:
        lots = await store.claim_expiry_notices(unit, within=within, limit=1000)
        grouped: dict[tuple[uuid.UUID, object], int] = defaultdict(int)
        for row in lots:
            grouped[(row.member_id, row.expires_at.date())] += row.remaining
        payloads = [
            {"memberId": str(member_id), "points": points, "expiresOn": day.isoformat()}  # type: ignore[attr-defined]
            for (member_id, day), points in sorted(grouped.items(), key=lambda item: (str(item[0][0]), item[0][1]))
        ]
        await outbox.publish_many(unit.connection, outbox.POINTS_EXPIRING, payloads)
        return len(lots), len(payloads)

    lots = events = 0
    while True:
        claimed, published = await run_unit(db, LedgerUnit, work, now=now)
        if not claimed:
            break
        lots, events = lots + claimed, events + published
    if events:
        outbox.wake()
    return lots, events
