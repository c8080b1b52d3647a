"""Reporting's queries: members' expiring points, lots and transactions; partners' figures.

Each opens its own short connection: GraphQL resolves sibling fields concurrently.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select, text

from services.points.ledger.chain import Leg, Transaction
from services.points.ledger.rows import LotRow
from services.points.models import LedgerTransaction, Lot, Posting
from services.points.reporting.answers import Expiring, ForecastMonth, MoneyAmount, PartnerFigures
from shared.database import Database
from shared.pagination import Page, PageRequest, paginate

_lots = Lot.__table__
_transactions = LedgerTransaction.__table__
_postings = Posting.__table__
_LOT = [_lots.c[n] for n in LotRow.COLUMNS]


async def expiring(db: Database, member_id: uuid.UUID, *, within: timedelta, now: datetime) -> list[Expiring]:
    """Points that will expire within `within`, grouped by (UTC) date: what the member holds in
    live lots, pending included (it expires all the same)."""
    day = func.date(func.timezone("UTC", _lots.c.expires_at))
    async with db.engine.connect() as connection:
        rows = await connection.execute(
            select(day.label("on"), func.sum(_lots.c.remaining).label("points"))
            .where(
                _lots.c.member_id == member_id,
                _lots.c.expired_at.is_(None),
                _lots.c.remaining > 0,
                _lots.c.expires_at > now,
                _lots.c.expires_at <= now + within,
            )
            .group_by(day)
            .order_by(day)
        )
        return [Expiring(row.on, int(row.points)) for row in rows]


async def lots_page(db: Database, member_id: uuid.UUID, request: PageRequest, *, include_closed: bool) -> Page[LotRow]:
    """The member's lots, newest first; without `include_closed`, only lots still holding points."""
    conditions = [_lots.c.member_id == member_id]
    if not include_closed:
        conditions += [_lots.c.remaining > 0, _lots.c.expired_at.is_(None)]
    if request.after_values is not None:
        created, lot_id = request.after_values
        conditions.append(or_(_lots.c.created_at < created, and_(_lots.c.created_at == created, _lots.c.id < lot_id)))
    async with db.engine.connect() as connection:
        rows = await connection.execute(
            select(*_LOT).where(*conditions).order_by(_lots.c.created_at.desc(), _lots.c.id.desc()).limit(request.fetch_limit)
        )
        lots = [LotRow.from_mapping(row._mapping) for row in rows]
    return paginate(lots, request, lambda lot: (lot.created_at, lot.id))


async def lots(db: Database, lot_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, LotRow]:
    async with db.engine.connect() as connection:
        rows = await connection.execute(select(*_LOT).where(_lots.c.id.in_(list(set(lot_ids)))))
        return {row.id: LotRow.from_mapping(row._mapping) for row in rows}


async def transactions_page(db: Database, member_id: uuid.UUID, request: PageRequest) -> Page[Transaction]:
    """The member's transactions, newest first, with their postings (two queries per page)."""
    t = _transactions
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
                select(_postings.c.transaction_id, _postings.c.account, _postings.c.amount, _postings.c.lot_id)
                .where(_postings.c.transaction_id.in_([r.id for r in rows]))
                .order_by(_postings.c.id)
            ):
                legs[row.transaction_id].append(Leg(row.account, row.amount, row.lot_id))
    found = [
        Transaction(
            id=r.id, member_id=r.member_id, sequence=r.sequence, kind=r.kind, actor=r.actor, reference=r.reference,
            detail=r.detail, created_at=r.created_at, prev_hash=r.prev_hash, hash=r.hash, legs=legs[r.id],
        )
        for r in rows
    ]
    return paginate(found, request, lambda found_: (found_.sequence,))


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
