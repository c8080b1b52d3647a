"""Lots: points credited together, with their provenance, and spending them first-expiring first.

A lot's `remaining` points are still the member's: pending until `vested_at` is set, then available.
Points that leave a lot (reserved by a hold, expired, clawed back, debited) are traced by postings
carrying the lot's id, so every point can be followed from the lot it came from to where it went.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Uuid, any_, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY

from services.points.accounts import MemberBucket
from shared.database import Prepared
from services.points.ledger import LedgerUnit
from services.points.models import lots_t
from shared.database import TrackedRow
from shared.ids import new_id

# Where a lot came from.
PURCHASE = "PURCHASE"
ADJUSTMENT = "ADJUSTMENT"
GRACE = "GRACE"  # refunded points whose original lot had expired


@dataclass(eq=False)
class LotRow(TrackedRow):
    TABLE = lots_t

    id: uuid.UUID
    member_id: uuid.UUID
    issuer_partner_id: uuid.UUID | None
    cost_per_point_minor: int
    currency: str | None
    amount: int
    remaining: int
    earned_at: datetime
    vests_at: datetime
    expires_at: datetime
    vested_at: datetime | None
    expired_at: datetime | None
    source: str
    purchase_id: uuid.UUID | None
    origin_lot_id: uuid.UUID | None
    created_tx_id: uuid.UUID | None
    created_at: datetime

    @property
    def bucket(self) -> MemberBucket:
        """The member account this lot's remaining points sit in."""
        return "available" if self.vested_at is not None else "pending"

    def is_live(self, now: datetime) -> bool:
        """Not expired, neither by the job nor by the clock (the job may not have run yet)."""
        return self.expired_at is None and self.expires_at > now


def new_lot(
    unit: LedgerUnit,
    *,
    member_id: uuid.UUID,
    issuer_partner_id: uuid.UUID | None,
    cost_per_point_minor: int,
    currency: str | None,
    amount: int,
    earned_at: datetime,
    vests_at: datetime,
    expires_at: datetime,
    source: str,
    purchase_id: uuid.UUID | None = None,
    origin_lot_id: uuid.UUID | None = None,
    lot_id: uuid.UUID | None = None,
) -> LotRow:
    """A new lot holding `amount` points (the caller posts the matching transaction)."""
    lot = LotRow(
        id=lot_id or new_id(),
        member_id=member_id,
        issuer_partner_id=issuer_partner_id,
        cost_per_point_minor=cost_per_point_minor,
        currency=currency,
        amount=amount,
        remaining=amount,
        earned_at=earned_at,
        vests_at=vests_at,
        expires_at=expires_at,
        vested_at=unit.now if vests_at <= unit.now else None,
        expired_at=None,
        source=source,
        purchase_id=purchase_id,
        origin_lot_id=origin_lot_id,
        created_tx_id=None,
        created_at=unit.now,
    )
    unit.add(lot)
    return lot


_LOT_COLUMNS = [lots_t.c[name] for name in LotRow.COLUMNS]


async def load_lots(unit: LedgerUnit, lot_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, LotRow]:
    ids = list(set(lot_ids))
    if not ids:
        return {}
    return {lot.id: lot for lot in await unit.fetch(LotRow, _BY_IDS, {"ids": ids})}


def _spendable_statement(*, excluding: bool) -> Any:
    running = func.sum(lots_t.c.remaining).over(order_by=(lots_t.c.expires_at, lots_t.c.id)).label("running")
    conditions = [
        lots_t.c.member_id == bindparam("member_id"),
        lots_t.c.expired_at.is_(None),
        lots_t.c.vested_at.is_not(None),
        lots_t.c.remaining > 0,
        lots_t.c.expires_at > bindparam("now"),
    ]
    if excluding:
        conditions.append(lots_t.c.id != bindparam("exclude"))
    candidates = select(*_LOT_COLUMNS, running).where(*conditions).subquery()
    return (
        select(*(candidates.c[name] for name in LotRow.COLUMNS))
        .where(candidates.c.running - candidates.c.remaining < bindparam("points"))
        .order_by(candidates.c.expires_at, candidates.c.id)
    )


_SPENDABLE = Prepared(_spendable_statement(excluding=False))
_SPENDABLE_EXCLUDING = Prepared(_spendable_statement(excluding=True))
_BY_IDS = Prepared(select(*_LOT_COLUMNS).where(lots_t.c.id == any_(bindparam("ids", type_=ARRAY(Uuid)))))


async def spendable_lots(
    unit: LedgerUnit, member_id: uuid.UUID, points: int, *, exclude: uuid.UUID | None = None
) -> list[LotRow]:
    """The member's vested, live lots, first-expiring first, just enough of them to cover `points`
    (all of them if they do not): a running sum stops the scan at the lot that completes it."""
    params = {"member_id": member_id, "now": unit.now, "points": points}
    if exclude is None:
        return await unit.fetch(LotRow, _SPENDABLE, params)
    return await unit.fetch(LotRow, _SPENDABLE_EXCLUDING, {**params, "exclude": exclude})


async def lots_of_members_where(unit: LedgerUnit, member_ids: Sequence[uuid.UUID], *conditions: object) -> list[LotRow]:
    """The members' lots matching `conditions`, first-expiring first (for the jobs)."""
    statement = (
        select(*_LOT_COLUMNS)
        .where(lots_t.c.member_id.in_(list(member_ids)), *conditions)  # type: ignore[arg-type]
        .order_by(lots_t.c.expires_at, lots_t.c.id)
    )
    return await unit.fetch(LotRow, statement)


def take_first_expiring(lots: Sequence[LotRow], points: int) -> list[tuple[LotRow, int]]:
    """How many points to take from each lot (already ordered first-expiring first) to make
    `points`, or fewer if the lots do not cover it."""
    taken: list[tuple[LotRow, int]] = []
    left = points
    for lot in lots:
        if left <= 0:
            break
        part = min(lot.remaining, left)
        if part > 0:
            taken.append((lot, part))
            left -= part
    return taken
