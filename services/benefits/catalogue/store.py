"""The catalogue's SQL: benefits, and what decides whether they can be redeemed (their partner's
status, available codes, budget room, a member's reservations).

Every read of a benefit also reads its facts (`BenefitFacts`), so `redeemableNow` and eligibility are
decided by `rules` from one query. `redeemable_clause` says the same thing in SQL for the catalogue's
`redeemableNow` filter; a test holds the two to agreement.

Functions take an `Executor` (an ORM session in a transaction, or a Core connection for reads).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import and_, bindparam, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ColumnElement
from sqlmodel.ext.asyncio.session import AsyncSession

from services.benefits.catalogue.rules import BenefitFacts, Usage
from services.benefits.models import Benefit, Budget, BudgetPeriod, Code, Partner, Reservation
from shared.database import Database

Executor = AsyncSession | AsyncConnection

benefits_t: sa.Table = Benefit.__table__  # type: ignore[attr-defined]
partners_t: sa.Table = Partner.__table__  # type: ignore[attr-defined]
budgets_t: sa.Table = Budget.__table__  # type: ignore[attr-defined]
periods_t: sa.Table = BudgetPeriod.__table__  # type: ignore[attr-defined]
codes_t: sa.Table = Code.__table__  # type: ignore[attr-defined]
reservations_t: sa.Table = Reservation.__table__  # type: ignore[attr-defined]

b, p = benefits_t.c, partners_t.c
_NOW = bindparam("now", type_=sa.DateTime(timezone=True))
_PERIOD = bindparam("period_start", type_=sa.DateTime(timezone=True))


@asynccontextmanager
async def reading(db: Database) -> AsyncIterator[AsyncConnection]:
    """A connection for a read of one statement: in autocommit, which spares the BEGIN and ROLLBACK
    round trips (about a fifth of a catalogue page's time)."""
    async with db.engine.connect() as connection:
        yield await connection.execution_options(isolation_level="AUTOCOMMIT")


def const(value: str) -> ColumnElement[str]:
    """A constant of the code (a status, a role…) written into the SQL rather than bound, so that a
    generic plan of the prepared statement still knows it: a bound status hides how selective it
    is, and a bound state cannot use a partial index (`WHERE state = 'AVAILABLE'`). A catalogue page
    planned generically with bound constants took 2 s instead of 1 ms (measured)."""
    return sa.literal(value, literal_execute=True)


def literal_limit(limit: int) -> ColumnElement[int]:
    """A LIMIT written into the SQL rather than bound, for the same reason as `const`: asyncpg
    prepares statements and PostgreSQL may plan them generically after a few runs; knowing the
    LIMIT, it defers the stock and budget probes until after a sort."""
    return sa.literal_column(str(int(limit)), sa.Integer)


async def run(executor: Executor, statement: Any, params: Mapping[str, Any] | None = None) -> sa.Result[Any]:
    """Runs a Core statement on an ORM session (SQLModel's `exec`) or a Core connection."""
    if isinstance(executor, AsyncSession):
        return await executor.exec(statement, params=params)  # type: ignore[call-overload,no-any-return]
    return await executor.execute(statement, params)


# --- the facts of a benefit, in SQL --------------------------------------------------------------------


def _partner_redeems() -> ColumnElement[bool]:
    return and_(p.status == const("ACTIVE"), const("REDEMPTION") == sa.any_(p.roles))


def _in_stock() -> ColumnElement[bool]:
    # A CODE benefit's stock is its pool: one probe of the partial index ix_codes_available per
    # benefit (LIMIT 1 keeps PostgreSQL from hashing every available code instead, which grows with
    # the pools). A recharge has a total, or none (unlimited).
    one_code = select(sa.literal(1)).where(codes_t.c.benefit_id == b.id, codes_t.c.state == const("AVAILABLE")).limit(1).scalar_subquery()
    counted = or_(b.stock_total.is_(None), b.stock_reserved + b.stock_issued < b.stock_total)
    return case((b.delivery == const("CODE"), one_code.is_not(None)), else_=counted)


# The room left in the benefit's own hard-stop budget and in its partner's this period: one exact
# probe of uq_budgets_target each. Scalar subqueries, so that under a LIMIT PostgreSQL evaluates
# them only for the rows it returns.
def _room(*, own: bool) -> ColumnElement[int]:
    bu, bp = budgets_t.c, periods_t.c
    target = bu.benefit_id == b.id if own else bu.benefit_id.is_(None)
    joined = budgets_t.outerjoin(periods_t, and_(bp.budget_id == bu.id, bp.period_start == _PERIOD))
    room = bu.limit_minor - func.coalesce(bp.reserved_minor, 0) - func.coalesce(bp.spent_minor, 0)
    return select(room).select_from(joined).where(bu.partner_id == b.partner_id, target, bu.hard_stop).scalar_subquery()


def _headroom() -> ColumnElement[int]:
    # LEAST ignores NULLs: the tighter of the two budgets, or NULL when neither applies.
    return func.least(_room(own=True), _room(own=False))


def _from() -> sa.Join:
    return benefits_t.join(partners_t, p.id == b.partner_id)


FACT_COLUMNS = (
    b.id, b.partner_id, b.status, b.points_price, b.settlement_minor, b.min_tier, b.available_from, b.available_until,
    b.valid_until, b.limit_per_day, b.limit_per_month, b.limit_lifetime, b.birthday_perk, b.categories, b.tags,
)
FACTS = (*FACT_COLUMNS, _partner_redeems().label("partner_redeems"), _in_stock().label("in_stock"), _headroom().label("budget_headroom_minor"))
VIEW_COLUMNS = tuple(c for c in benefits_t.c if c.name not in ("data_key", "low_stock_alerted", "stock_reserved", "stock_issued"))
VIEW = tuple(dict.fromkeys((*VIEW_COLUMNS, *FACTS, p.status.label("partner_status"))))


def facts_of(row: Any) -> BenefitFacts:
    return BenefitFacts(
        id=row.id, partner_id=row.partner_id, status=row.status, partner_redeems=bool(row.partner_redeems),
        points_price=row.points_price, settlement_minor=row.settlement_minor, min_tier=row.min_tier,
        available_from=row.available_from, available_until=row.available_until, valid_until=row.valid_until,
        limit_per_day=row.limit_per_day, limit_per_month=row.limit_per_month, limit_lifetime=row.limit_lifetime,
        birthday_perk=row.birthday_perk, categories=tuple(row.categories or ()), tags=tuple(row.tags or ()),
        in_stock=bool(row.in_stock), budget_headroom_minor=row.budget_headroom_minor,
    )


def redeemable_clause() -> ColumnElement[bool]:
    """`rules.benefit_reasons(...) == ()` in SQL (bound parameters `now`, `period_start`). Built once:
    building it costs more than PostgreSQL takes to run a page with it."""
    return _REDEEMABLE


def _redeemable() -> ColumnElement[bool]:
    return and_(
        b.status == const("ACTIVE"),
        _partner_redeems(),
        or_(b.available_from.is_(None), b.available_from <= _NOW),
        or_(b.available_until.is_(None), b.available_until > _NOW),
        or_(b.valid_until.is_(None), b.valid_until > _NOW),
        _in_stock(),
        func.coalesce(_headroom() >= b.settlement_minor, sa.true()),
    )


_REDEEMABLE = _redeemable()
_NOT_REDEEMABLE = ~_REDEEMABLE


def not_redeemable_clause() -> ColumnElement[bool]:
    return _NOT_REDEEMABLE


# --- reads ---------------------------------------------------------------------------------------------


async def load(executor: Executor, ids: Sequence[uuid.UUID], *, now: datetime, period_start: datetime) -> dict[uuid.UUID, Any]:
    """Benefits (view columns and facts) by id; missing ids are left out."""
    if not ids:
        return {}
    query = select(*VIEW).select_from(_from()).where(b.id.in_(list(set(ids))))
    rows = await run(executor, query, {"now": now, "period_start": period_start})
    return {row.id: row for row in rows}


@dataclass(frozen=True, slots=True)
class ListQuery:
    """A page of the catalogue: who may see what (`visible`), the filters, and the keyset."""

    visible: ColumnElement[bool]
    conditions: tuple[ColumnElement[bool], ...]
    order: tuple[ColumnElement[Any], ...]
    keyset: ColumnElement[bool] | None
    limit: int


def page_statement(query: ListQuery) -> sa.Select[Any]:
    statement = select(*VIEW).select_from(_from()).where(query.visible, *query.conditions)
    if query.keyset is not None:
        statement = statement.where(query.keyset)
    return statement.order_by(*query.order).limit(literal_limit(query.limit))


async def list_page(executor: Executor, query: ListQuery, *, now: datetime, period_start: datetime) -> list[Any]:
    return list(await run(executor, page_statement(query), {"now": now, "period_start": period_start}))


def eligibility_statement(category: str | None) -> sa.Select[Any]:
    statement = select(*FACTS).select_from(_from()).where(b.status == const("ACTIVE"), p.status == const("ACTIVE"))
    if category is not None:
        statement = statement.where(b.categories.contains([category]))
    return statement


async def active_facts(executor: Executor, *, category: str | None, period_start: datetime) -> list[BenefitFacts]:
    """The facts of every ACTIVE benefit of an ACTIVE partner (optionally of one category)."""
    rows = await run(executor, eligibility_statement(category), {"period_start": period_start})
    return [facts_of(row) for row in rows]


async def facts(executor: Executor, benefit_id: uuid.UUID, *, period_start: datetime) -> BenefitFacts | None:
    rows = await run(executor, select(*FACTS).select_from(_from()).where(b.id == benefit_id), {"period_start": period_start})
    row = rows.first()
    return facts_of(row) if row is not None else None


async def member_usage(
    executor: Executor,
    member_id: uuid.UUID,
    *,
    day: datetime,
    month: datetime,
    year: datetime,
    benefit_id: uuid.UUID | None = None,
) -> dict[uuid.UUID, Usage]:
    """The member's live reservations (RESERVED or ISSUED) per benefit, counted since the UTC day,
    month and year began and in all (ix_reservations_member_benefit)."""
    rows = await run(executor, usage_statement(member_id, day=day, month=month, year=year, benefit_id=benefit_id))
    return {row.benefit_id: Usage(row.today, row.this_month, row.this_year, row.lifetime) for row in rows}


def usage_statement(
    member_id: uuid.UUID, *, day: datetime, month: datetime, year: datetime, benefit_id: uuid.UUID | None = None
) -> sa.Select[Any]:
    r = reservations_t.c
    query = (
        select(
            r.benefit_id,
            func.count().filter(r.created_at >= day).label("today"),
            func.count().filter(r.created_at >= month).label("this_month"),
            func.count().filter(r.created_at >= year).label("this_year"),
            func.count().label("lifetime"),
        )
        .where(r.member_id == member_id, or_(r.state == const("RESERVED"), r.state == const("ISSUED")))
        .group_by(r.benefit_id)
    )
    if benefit_id is not None:
        query = query.where(r.benefit_id == benefit_id)
    return query


async def lock_member_benefit(executor: Executor, member_id: uuid.UUID, benefit_id: uuid.UUID) -> None:
    """Serialises one member's redemptions of one benefit until the transaction ends, so the
    per-member limits are counted after any concurrent reservation of the same pair committed."""
    key = int.from_bytes(hashlib.sha256(member_id.bytes + benefit_id.bytes).digest()[:8], "big", signed=True)
    await run(executor, select(func.pg_advisory_xact_lock(key)))


# --- partners (read only: the partners concept owns them) ------------------------------------------------


async def partner(executor: Executor, partner_id: uuid.UUID) -> Any:
    rows = await run(executor, select(p.id, p.status, p.roles, p.currency).where(p.id == partner_id))
    return rows.first()


# --- writes --------------------------------------------------------------------------------------------


async def insert(executor: Executor, values: Mapping[str, Any]) -> None:
    await run(executor, sa.insert(benefits_t).values(**values))


async def lock(executor: Executor, benefit_id: uuid.UUID) -> Any:
    """The stored benefit, locked for an update."""
    rows = await run(executor, select(benefits_t).where(b.id == benefit_id).with_for_update())
    return rows.first()


async def update(executor: Executor, benefit_id: uuid.UUID, values: Mapping[str, Any]) -> None:
    await run(executor, sa.update(benefits_t).where(b.id == benefit_id).values(**values))


async def count(executor: Executor) -> int:
    return int((await run(executor, select(func.count()).select_from(benefits_t))).scalar_one())


async def explain(
    executor: AsyncConnection, statement: Any, params: Mapping[str, Any] | None = None, *, analyze: bool = False, generic: bool = False
) -> str:
    """PostgreSQL's plan for a statement of this module (tests and the benchmark check index use).
    `generic`: the plan PostgreSQL makes for the prepared statement whatever its parameters, which
    it may switch to after a few runs (asyncpg prepares every statement)."""
    compiled = statement.compile(dialect=executor.dialect)
    expanded = compiled.construct_expanded_state(dict(params or {}))  # literal constants and IN lists written out
    options = "(ANALYZE, BUFFERS) " if analyze else ""
    if not generic:
        rows = await executor.exec_driver_sql(f"EXPLAIN {options}{expanded.statement}", expanded.positional_parameters)
        return "\n".join(row[0] for row in rows)
    values = ", ".join(_sql_literal(v) for v in expanded.positional_parameters)
    await executor.exec_driver_sql("SET plan_cache_mode = force_generic_plan")
    await executor.exec_driver_sql(f"PREPARE explained AS {expanded.statement}")
    try:
        rows = await executor.exec_driver_sql(f"EXPLAIN {options}EXECUTE explained({values})")
    finally:
        await executor.exec_driver_sql("DEALLOCATE explained")
        await executor.exec_driver_sql("RESET plan_cache_mode")
    return "\n".join(row[0] for row in rows)


_GENERATE = sa.text(
    """
    WITH made AS (
        INSERT INTO benefits.benefits (
            id, partner_id, kind, delivery, status, title, description, categories, tags, points_price, settlement_minor,
            currency, face_value_minor, validity_days, platform, duration_days, min_tier, available_until, limit_per_day,
            stock_total, created_at, updated_at)
        SELECT gen_random_uuid(), (CAST(:partners AS uuid[]))[1 + i % cardinality(CAST(:partners AS uuid[]))],
            CASE WHEN i % 3 = 0 THEN 'VIDEO_MEMBERSHIP' ELSE 'VOUCHER' END,
            CASE WHEN i % 6 = 0 THEN 'RECHARGE' ELSE 'CODE' END,
            CASE i % 10 WHEN 0 THEN 'DRAFT' WHEN 1 THEN 'PAUSED' ELSE 'ACTIVE' END,
            :prefix || ' ' || i, '',
            ARRAY[(ARRAY['grocery', 'video', 'travel', 'coffee', 'fashion', 'dining'])[1 + i % 6]],
            ARRAY[(ARRAY['weekend', 'gift', 'trial', 'premium', 'family'])[1 + i % 5]],
            100 + (i * 37) % 20000, 50 + (i * 13) % 5000, :currency,
            CASE WHEN i % 3 = 0 THEN NULL ELSE 1000 + (i % 50) * 100 END, CASE WHEN i % 3 = 0 THEN NULL ELSE 30 END,
            CASE WHEN i % 3 = 0 THEN 'streambox' END, CASE WHEN i % 3 = 0 THEN 30 END,
            CASE WHEN i % 7 = 0 THEN 'GOLD' END, CASE WHEN i % 11 = 0 THEN CAST(:now AS timestamptz) - interval '1 day' END,
            CASE WHEN i % 5 = 0 THEN 1 END, CASE WHEN i % 12 = 0 THEN 0 END,
            CAST(:now AS timestamptz) - i * interval '1 second', CAST(:now AS timestamptz)
        FROM generate_series(1, :count) AS i
        RETURNING id, delivery
    )
    INSERT INTO benefits.codes (id, benefit_id, code_hash, code_encrypted, last4, state, created_at)
    SELECT gen_random_uuid(), made.id, decode(md5(made.id::text || ':' || g), 'hex'), '\\x00', '0000', 'AVAILABLE', CAST(:now AS timestamptz)
    FROM made, generate_series(1, :codes) AS g
    WHERE made.delivery = 'CODE' AND abs(hashtext(made.id::text)) % 4 <> 0
    """
)


async def generate(executor: Executor, partner_ids: Sequence[uuid.UUID], count: int, *, now: datetime, codes: int = 2,
                   prefix: str = "Generated benefit", currency: str = "CNY") -> None:
    """A large varied catalogue for benchmarks and index tests, in one statement: a tenth DRAFT and
    a tenth PAUSED, every kind and delivery, some GOLD-only, ended, daily-limited or sold out, and
    `codes` available codes for three in four CODE benefits."""
    params = {"partners": [str(p) for p in partner_ids], "count": count, "codes": codes, "now": now, "prefix": prefix, "currency": currency}
    await run(executor, _GENERATE, params)


def _sql_literal(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        text = "{" + ",".join(str(v) for v in value) + "}"
    elif isinstance(value, datetime):
        text = value.isoformat()
    else:
        text = str(value)
    return "'" + text.replace("'", "''") + "'"
