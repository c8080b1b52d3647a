"""Expiry: points left in a lot at its expiry time go to the issuer's breakage account.

Held points are not expired with their lot: the hold may still be captured. If it is released
instead, its points go straight to breakage (see holds). Expiry notices announce, once per lot,
points that will expire within the notice window.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from services.points import accounts, events
from services.points.chain import Leg
from services.points.ledger import LedgerUnit, MemberState, Posted, post
from services.points.lots import LotRow
from services.points.models import lots_t, notices_t


def expire(unit: LedgerUnit, state: MemberState, lot: LotRow, *, actor: str) -> Posted | None:
    """Expires the lot's remaining points (None when none were left, the lot is just closed)."""
    if lot.expired_at is not None or lot.expires_at > unit.now:
        return None
    points = lot.remaining
    lot.remaining, lot.expired_at = 0, unit.now
    if not points:
        return None
    state.lifetime_expired += points
    legs = [
        Leg(accounts.member(state.member_id, lot.bucket), -points, lot.id),
        Leg(accounts.issuer(lot.issuer_partner_id, "breakage"), points, lot.id),
    ]
    return post(unit, state, kind="EXPIRE", legs=legs, actor=actor, detail={"lot": str(lot.id)})


async def announce_expiring(unit: LedgerUnit, *, within: timedelta, limit: int) -> tuple[int, int]:
    """Publishes one PointsExpiringSoon per member and expiry date for lots not yet announced;
    returns (lots, events). Needs no member lock: the notice rows' keys make it happen once."""
    horizon = unit.now + within
    due = (
        select(lots_t.c.id, lots_t.c.member_id, lots_t.c.remaining, lots_t.c.expires_at)
        .where(
            lots_t.c.expired_at.is_(None),
            lots_t.c.remaining > 0,
            lots_t.c.expires_at > unit.now,
            lots_t.c.expires_at <= horizon,
            ~select(notices_t.c.lot_id).where(notices_t.c.lot_id == lots_t.c.id).exists(),
        )
        .order_by(lots_t.c.expires_at)
        .limit(limit)
    )
    lots = (await unit.execute(due)).all()
    if not lots:
        return 0, 0
    claimed = await unit.execute(
        insert(notices_t)
        .on_conflict_do_nothing()
        .returning(notices_t.c.lot_id),
        [{"lot_id": r.id, "member_id": r.member_id, "points": r.remaining, "expires_at": r.expires_at, "notified_at": unit.now} for r in lots],
    )
    mine = {row.lot_id for row in claimed}  # a concurrent run may have taken some
    grouped: dict[tuple[uuid.UUID, datetime], int] = defaultdict(int)
    for row in lots:
        if row.id in mine:
            grouped[(row.member_id, row.expires_at.date())] += row.remaining  # type: ignore[index]
    payloads = [
        {"memberId": str(member_id), "points": points, "expiresOn": day.isoformat()}
        for (member_id, day), points in sorted(grouped.items(), key=lambda item: (str(item[0][0]), item[0][1]))
    ]
    await events.publish_many(unit.connection, events.POINTS_EXPIRING, payloads)
    return len(mine), len(payloads)
