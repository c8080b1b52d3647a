"""Spending's SQL: holds with their allocations and lots, holds due to expire, settlement lines."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, bindparam, case, func, or_, select, true

from services.points.ledger.rows import LotRow
from services.points.models import Hold, HoldAllocation, Lot, Settlement
from services.points.spending.answers import StatementLine
from services.points.spending.rows import AllocationRow, HoldRow
from services.points.spending.rules import ACTIVE
from shared.database import Database, Prepared, Unit
from shared.errors import NotFound

_holds = Hold.__table__
_allocations = HoldAllocation.__table__
_lots = Lot.__table__
_settlements = Settlement.__table__


@dataclass
class LoadedHold:
    hold: HoldRow
    # Each allocation with its lot, first-expiring first.
    parts: list[tuple[AllocationRow, LotRow]]


def _load_statement() -> Select:  # type: ignore[type-arg]
    h, a, lot = _holds, _allocations, _lots
    columns = (
        [h.c[n].label(f"h_{n}") for n in HoldRow.COLUMNS]
        + [a.c[n].label(f"a_{n}") for n in AllocationRow.COLUMNS]
        + [lot.c[n].label(f"l_{n}") for n in LotRow.COLUMNS]
    )
    return (
        select(*columns)
        .select_from(h.join(a, a.c.hold_id == h.c.id).join(lot, lot.c.id == a.c.lot_id))
        .where(h.c.id == bindparam("hold_id"))
        .order_by(lot.c.expires_at, lot.c.id)
    )


_LOAD = Prepared(_load_statement())


async def load_hold(unit: Unit, hold_id: uuid.UUID) -> LoadedHold:
    """The hold with its allocations and their lots, tracked, in one round trip (read under the
    member's lock)."""
    rows = (await unit.execute(_LOAD, {"hold_id": hold_id})).all()
    if not rows:
        raise NotFound("no such hold", holdId=str(hold_id))
    hold = unit.load(HoldRow, rows[0]._mapping, "h_")
    parts = [(unit.load(AllocationRow, row._mapping, "a_"), unit.load(LotRow, row._mapping, "l_")) for row in rows]
    return LoadedHold(hold, parts)


async def hold_by_id(db: Database, hold_id: uuid.UUID) -> HoldRow | None:
    async with db.engine.connect() as connection:
        row = (await connection.execute(select(*(_holds.c[n] for n in HoldRow.COLUMNS)).where(_holds.c.id == hold_id))).first()
    return HoldRow.from_mapping(row._mapping) if row else None


async def due_holds(db: Database, now: datetime, *, skip: set[uuid.UUID], limit: int) -> list[tuple[uuid.UUID, int]]:
    """Active holds past their time limit, oldest first: (id, amount)."""
    async with db.engine.connect() as connection:
        rows = await connection.execute(
            select(_holds.c.id, _holds.c.amount)
            .where(_holds.c.status == ACTIVE, _holds.c.expires_at <= now, _holds.c.id.not_in(skip) if skip else true())
            .order_by(_holds.c.expires_at)
            .limit(limit)
        )
        return [(row.id, row.amount) for row in rows]


async def statement_lines(db: Database, partner_id: uuid.UUID, start: datetime, end: datetime) -> list[StatementLine]:
    """Lines booked in [start, end) that concern the partner, netted per counterparty and currency.
    A partner's own points redeemed at itself settle nothing and are left out."""
    s = _settlements
    issuer, beneficiary = s.c.issuer_partner_id, s.c.beneficiary_partner_id
    as_issuer = and_(issuer == partner_id, beneficiary != partner_id)
    as_beneficiary = and_(beneficiary == partner_id, or_(issuer.is_(None), issuer != partner_id))
    # The other side of each line (NULL for alliance-funded lots redeemed at the partner).
    counterparty = case((issuer == partner_id, beneficiary), else_=issuer)
    query = (
        select(
            counterparty.label("counterparty"),
            s.c.currency,
            func.coalesce(func.sum(s.c.points).filter(as_issuer), 0).label("out_points"),
            func.coalesce(func.sum(s.c.amount_minor).filter(as_issuer), 0).label("payable"),
            func.coalesce(func.sum(s.c.points).filter(as_beneficiary), 0).label("in_points"),
            func.coalesce(func.sum(s.c.amount_minor).filter(as_beneficiary), 0).label("receivable"),
        )
        .where(or_(as_issuer, as_beneficiary), s.c.created_at >= start, s.c.created_at < end)
        .group_by(counterparty, s.c.currency)
    )
    async with db.engine.connect() as connection:
        rows: Any = (await connection.execute(query)).all()
    lines = [
        StatementLine(
            counterparty_id=row.counterparty,
            currency=row.currency,
            points_redeemed_by_counterparty=int(row.out_points),
            payable_minor=int(row.payable),
            points_redeemed_at_partner=int(row.in_points),
            receivable_minor=int(row.receivable),
            net_minor=int(row.receivable) - int(row.payable),
        )
        for row in rows
    ]
    return sorted(lines, key=lambda line: (str(line.counterparty_id), line.currency))
