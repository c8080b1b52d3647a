"""Reads for the GraphQL layer and operators: balances, lots, transactions, partner figures.

Each function takes ids in batches where a DataLoader calls it (one query per batch) and opens its
own short connection, since GraphQL resolves sibling fields concurrently.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import and_, func, or_, select, text

from services.points.chain import Leg
from services.points.holds import HoldRow
from services.points.lots import LotRow
from services.points.models import accounts_t, holds_t, lots_t, postings_t, purchases_t, transactions_t
from shared.database import Database
from shared.errors import NotFound
from shared.pagination import Page, PageRequest, paginate


@dataclass(frozen=True, slots=True)
class Balances:
    member_id: uuid.UUID
    available: int = 0
    pending: int = 0
    held: int = 0
    debt: int = 0
    lifetime_earned: int = 0
    lifetime_spent: int = 0
    lifetime_expired: int = 0
    tier: str | None = None
    birthday_month: int | None = None


_BALANCE_FIELDS = [f for f in Balances.__dataclass_fields__]


async def balances_of(db: Database, member_ids: Sequence[uuid.UUID]) -> list[Balances]:
    """One per id, in order; a member points has not seen has zero balances."""
    async with db.engine.connect() as connection:
        rows = await connection.execute(
            select(*(accounts_t.c[f] for f in _BALANCE_FIELDS)).where(accounts_t.c.member_id.in_(list(set(member_ids))))
        )
        found = {row.member_id: Balances(**row._mapping) for row in rows}
    return [found.get(member_id, Balances(member_id)) for member_id in member_ids]


@dataclass(frozen=True, slots=True)
class Expiring:
    on: date
    points: int


async def expiring_soon(db: Database, member_id: uuid.UUID, *, within: timedelta, now: datetime) -> list[Expiring]:
    """Points that will expire within `within`, grouped by (UTC) date: what the member holds in
    live lots, pending included (it expires all the same)."""
    day = func.date(func.timezone("UTC", lots_t.c.expires_at))
    async with db.engine.connect() as connection:
        rows = await connection.execute(
            select(day.label("on"), func.sum(lots_t.c.remaining).label("points"))
            .where(
                lots_t.c.member_id == member_id,
                lots_t.c.expired_at.is_(None),
                lots_t.c.remaining > 0,
                lots_t.c.expires_at > now,
                lots_t.c.expires_at <= now + within,
            )
            .group_by(day)
            .order_by(day)
        )
        return [Expiring(row.on, int(row.points)) for row in rows]


_LOT_COLUMNS = [lots_t.c[n] for n in LotRow.COLUMNS]


async def lots_page(db: Database, member_id: uuid.UUID, request: PageRequest, *, include_closed: bool) -> Page[LotRow]:
    """The member's lots, newest first; without `include_closed`, only lots still holding points."""
    conditions = [lots_t.c.member_id == member_id]
    if not include_closed:
        conditions += [lots_t.c.remaining > 0, lots_t.c.expired_at.is_(None)]
    if request.after_values is not None:
        created, lot_id = request.after_values
        conditions.append(or_(lots_t.c.created_at < created, and_(lots_t.c.created_at == created, lots_t.c.id < lot_id)))
    async with db.engine.connect() as connection:
        rows = await connection.execute(
            select(*_LOT_COLUMNS).where(*conditions).order_by(lots_t.c.created_at.desc(), lots_t.c.id.desc()).limit(request.fetch_limit)
        )
        lots = [LotRow(**{n: row._mapping[n] for n in LotRow.COLUMNS}) for row in rows]
    return paginate(lots, request, lambda lot: (lot.created_at, lot.id))


LOT_CURSOR = (datetime, uuid.UUID)
TRANSACTION_CURSOR = (int,)


@dataclass(frozen=True, slots=True)
class TransactionView:
    id: uuid.UUID
    member_id: uuid.UUID
    sequence: int
    kind: str
    actor: str
    reference: str | None
    detail: dict | None
    created_at: datetime
    prev_hash: str
    hash: str
    postings: list[Leg] = field(default_factory=list)


async def transactions_page(db: Database, member_id: uuid.UUID, request: PageRequest) -> Page[TransactionView]:
    """The member's transactions, newest first, with their postings (two queries per page)."""
    t = transactions_t
    conditions = [t.c.member_id == member_id]
    if request.after_values is not None:
        conditions.append(t.c.sequence < request.after_values[0])
    async with db.engine.connect() as connection:
        rows = (
            await connection.execute(select(t).where(*conditions).order_by(t.c.sequence.desc()).limit(request.fetch_limit))
        ).all()
        legs: dict[uuid.UUID, list[Leg]] = defaultdict(list)
        if rows:
            for row in await connection.execute(
                select(postings_t.c.transaction_id, postings_t.c.account, postings_t.c.amount, postings_t.c.lot_id)
                .where(postings_t.c.transaction_id.in_([r.id for r in rows]))
                .order_by(postings_t.c.id)
            ):
                legs[row.transaction_id].append(Leg(row.account, row.amount, row.lot_id))
    views = [
        TransactionView(
            id=r.id, member_id=r.member_id, sequence=r.sequence, kind=r.kind, actor=r.actor, reference=r.reference,
            detail=r.detail, created_at=r.created_at, prev_hash=r.prev_hash, hash=r.hash, postings=legs[r.id],
        )
        for r in rows
    ]
    return paginate(views, request, lambda v: (v.sequence,))


async def hold_of(db: Database, hold_id: uuid.UUID) -> HoldRow:
    async with db.engine.connect() as connection:
        row = (await connection.execute(select(*(holds_t.c[n] for n in HoldRow.COLUMNS)).where(holds_t.c.id == hold_id))).first()
    if row is None:
        raise NotFound("no such hold", holdId=str(hold_id))
    return HoldRow(**row._mapping)


@dataclass(frozen=True, slots=True)
class MoneyAmount:
    currency: str
    amount_minor: int


@dataclass(frozen=True, slots=True)
class ForecastMonth:
    month: str  # YYYY-MM (UTC)
    points: int
    value: list[MoneyAmount]


@dataclass(frozen=True, slots=True)
class PartnerFigures:
    partner_id: uuid.UUID
    points_issued: int = 0
    outstanding_points: int = 0
    outstanding_value: list[MoneyAmount] = field(default_factory=list)
    breakage_points: int = 0
    breakage_value: list[MoneyAmount] = field(default_factory=list)
    redeemed_points: int = 0
    expiry_forecast: list[ForecastMonth] = field(default_factory=list)


_ISSUER_ACCOUNTS = text(
    "SELECT split_part(account, ':', 2) AS issuer, split_part(account, ':', 3) AS bucket, sum(amount) AS total"
    " FROM points.postings WHERE account LIKE 'issuer:%' AND split_part(account, ':', 2) = ANY(:issuers)"
    " AND split_part(account, ':', 3) IN ('issued', 'breakage') GROUP BY 1, 2"
)
# Outstanding per issuer: points still in members' hands (live lots and what holds reserved from them).
_OUTSTANDING = text(
    "SELECT l.issuer_partner_id AS issuer, l.currency, to_char(l.expires_at AT TIME ZONE 'UTC', 'YYYY-MM') AS month,"
    " sum(l.remaining + coalesce(h.held, 0)) AS points,"
    " sum((l.remaining + coalesce(h.held, 0)) * l.cost_per_point_minor) AS value"
    " FROM points.lots l LEFT JOIN ("
    "  SELECT a.lot_id, sum(a.amount) AS held FROM points.hold_allocations a"
    "  JOIN points.holds ON holds.id = a.hold_id WHERE holds.status = 'ACTIVE' GROUP BY a.lot_id"
    " ) h ON h.lot_id = l.id"
    " WHERE l.issuer_partner_id = ANY(:ids) AND l.expired_at IS NULL"
    " GROUP BY 1, 2, 3 ORDER BY 3"
)
_BREAKAGE_VALUE = text(
    "SELECT l.issuer_partner_id AS issuer, l.currency, sum(p.amount * l.cost_per_point_minor) AS value"
    " FROM points.postings p JOIN points.lots l ON l.id = p.lot_id"
    " WHERE p.account LIKE 'issuer%' AND split_part(p.account, ':', 3) = 'breakage' AND l.issuer_partner_id = ANY(:ids) GROUP BY 1, 2"
)
_REDEEMED_AT = text(
    "SELECT split_part(account, ':', 4) AS beneficiary, sum(amount) AS points FROM points.postings"
    " WHERE account LIKE 'issuer%' AND split_part(account, ':', 3) = 'redeemed' AND split_part(account, ':', 4) = ANY(:ids) GROUP BY 1"
)


async def partner_figures(db: Database, partner_ids: Sequence[uuid.UUID]) -> list[PartnerFigures]:
    """Issued, outstanding (points and money at each lot's cost per point), expiry forecast by
    month, breakage to date and points redeemed at the partner, for a batch of partners."""
    ids = list(set(partner_ids))
    as_text = [str(i) for i in ids]
    issued: dict[uuid.UUID, int] = defaultdict(int)
    breakage: dict[uuid.UUID, int] = defaultdict(int)
    outstanding: dict[uuid.UUID, int] = defaultdict(int)
    value: dict[uuid.UUID, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    forecast: dict[uuid.UUID, dict[str, tuple[int, dict[str, int]]]] = defaultdict(dict)
    breakage_value: dict[uuid.UUID, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    redeemed: dict[uuid.UUID, int] = defaultdict(int)
    async with db.engine.connect() as connection:
        for row in await connection.execute(_ISSUER_ACCOUNTS, {"issuers": as_text}):
            issuer = uuid.UUID(row.issuer)
            if row.bucket == "issued":
                issued[issuer] = -int(row.total)
            else:
                breakage[issuer] = int(row.total)
        for row in await connection.execute(_OUTSTANDING, {"ids": ids}):
            outstanding[row.issuer] += int(row.points)
            if row.currency:
                value[row.issuer][row.currency] += int(row.value)
            points, by_currency = forecast[row.issuer].get(row.month, (0, {}))
            if row.currency:
                by_currency = {**by_currency, row.currency: by_currency.get(row.currency, 0) + int(row.value)}
            forecast[row.issuer][row.month] = (points + int(row.points), by_currency)
        for row in await connection.execute(_BREAKAGE_VALUE, {"ids": ids}):
            if row.currency:
                breakage_value[row.issuer][row.currency] += int(row.value)
        for row in await connection.execute(_REDEEMED_AT, {"ids": as_text}):
            redeemed[uuid.UUID(row.beneficiary)] = int(row.points)

    def money(by_currency: dict[str, int]) -> list[MoneyAmount]:
        return [MoneyAmount(c, v) for c, v in sorted(by_currency.items())]

    return [
        PartnerFigures(
            partner_id=p,
            points_issued=issued[p],
            outstanding_points=outstanding[p],
            outstanding_value=money(value[p]),
            breakage_points=breakage[p],
            breakage_value=money(breakage_value[p]),
            redeemed_points=redeemed[p],
            expiry_forecast=[ForecastMonth(m, pts, money(v)) for m, (pts, v) in sorted(forecast[p].items())],
        )
        for p in partner_ids
    ]


@dataclass(frozen=True, slots=True)
class PurchaseView:
    id: uuid.UUID
    partner_id: uuid.UUID
    external_id: str
    member_id: uuid.UUID
    amount_minor: int
    currency: str
    occurred_at: datetime
    category: str | None
    points_earned: int
    returned_minor: int
    points_clawed_back: int
    created_at: datetime


PURCHASE_CURSOR = (datetime, uuid.UUID)


async def purchases_page(db: Database, request: PageRequest, *, partner_id: uuid.UUID | None, member_id: uuid.UUID | None) -> Page[PurchaseView]:
    p = purchases_t
    conditions = []
    if partner_id is not None:
        conditions.append(p.c.partner_id == partner_id)
    if member_id is not None:
        conditions.append(p.c.member_id == member_id)
    if request.after_values is not None:
        created, purchase_id = request.after_values
        conditions.append(or_(p.c.created_at < created, and_(p.c.created_at == created, p.c.id < purchase_id)))
    columns = [p.c[n] for n in PurchaseView.__dataclass_fields__]
    async with db.engine.connect() as connection:
        rows = await connection.execute(select(*columns).where(*conditions).order_by(p.c.created_at.desc(), p.c.id.desc()).limit(request.fetch_limit))
        views = [PurchaseView(**row._mapping) for row in rows]
    return paginate(views, request, lambda v: (v.created_at, v.id))
