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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import and_, bindparam, case, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ColumnElement
from sqlmodel.ext.asyncio.session import AsyncSession

from services.benefits.catalogue.rules import BenefitFacts, Usage
from services.benefits.models import Benefit, Budget, BudgetPeriod, Code, Partner, Reservation

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


async def run(executor: Executor, statement: Any, params: Mapping[str, Any] | None = None) -> sa.Result[Any]:
    """Runs a Core statement on an ORM session (SQLModel's `exec`) or a Core connection."""
    if isinstance(executor, AsyncSession):
        return await executor.exec(statement, params=params)  # type: ignore[call-overload,no-any-return]
    return await executor.execute(statement, params)


# --- the facts of a benefit, in SQL --------------------------------------------------------------------


def _partner_redeems() -> ColumnElement[bool]:
    return and_(p.status == "ACTIVE", sa.literal("REDEMPTION") == sa.any_(p.roles))


def _in_stock() -> ColumnElement[bool]:
    # A CODE benefit's stock is its pool (the partial index ix_codes_available answers this); a
    # recharge has a total, or none (unlimited).
    has_code = exists().where(codes_t.c.benefit_id == b.id, codes_t.c.state == "AVAILABLE")
    counted = or_(b.stock_total.is_(None), b.stock_reserved + b.stock_issued < b.stock_total)
    return case((b.delivery == "CODE", has_code), else_=counted)


def _budgets_of_benefit() -> sa.Select[Any]:
    """The benefit's own budget and its partner's, with this period's use (the partner_id prefix of
    uq_budgets_target finds them)."""
    bu, bp = budgets_t.c, periods_t.c
    joined = budgets_t.outerjoin(periods_t, and_(bp.budget_id == bu.id, bp.period_start == _PERIOD))
    return select(bu.limit_minor - func.coalesce(bp.reserved_minor, 0) - func.coalesce(bp.spent_minor, 0)).select_from(joined).where(
        bu.partner_id == b.partner_id, or_(bu.benefit_id == b.id, bu.benefit_id.is_(None)), bu.hard_stop
    )


def _headroom() -> ColumnElement[int]:
    return _budgets_of_benefit().with_only_columns(
        func.min(budgets_t.c.limit_minor - func.coalesce(periods_t.c.reserved_minor, 0) - func.coalesce(periods_t.c.spent_minor, 0))
    ).scalar_subquery()


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
    """`rules.benefit_reasons(...) == ()` in SQL (bound parameters `now`, `period_start`)."""
    over_budget = exists(_budgets_of_benefit().where(
        budgets_t.c.limit_minor - func.coalesce(periods_t.c.reserved_minor, 0) - func.coalesce(periods_t.c.spent_minor, 0) < b.settlement_minor
    ))
    return and_(
        b.status == "ACTIVE",
        _partner_redeems(),
        or_(b.available_from.is_(None), b.available_from <= _NOW),
        or_(b.available_until.is_(None), b.available_until > _NOW),
        or_(b.valid_until.is_(None), b.valid_until > _NOW),
        _in_stock(),
        ~over_budget,
    )


def _from() -> sa.Join:
    return benefits_t.join(partners_t, p.id == b.partner_id)


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


async def list_page(executor: Executor, query: ListQuery, *, now: datetime, period_start: datetime) -> list[Any]:
    statement = select(*VIEW).select_from(_from()).where(query.visible, *query.conditions)
    if query.keyset is not None:
        statement = statement.where(query.keyset)
    statement = statement.order_by(*query.order).limit(query.limit)
    return list(await run(executor, statement, {"now": now, "period_start": period_start}))


def explain_page(query: ListQuery) -> sa.Select[Any]:
    """The statement `list_page` runs (for EXPLAIN in tests and the benchmark)."""
    statement = select(*VIEW).select_from(_from()).where(query.visible, *query.conditions)
    if query.keyset is not None:
        statement = statement.where(query.keyset)
    return statement.order_by(*query.order).limit(query.limit)


def eligibility_statement(category: str | None) -> sa.Select[Any]:
    statement = select(*FACTS).select_from(_from()).where(b.status == "ACTIVE", p.status == "ACTIVE")
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
    r = reservations_t.c
    query = (
        select(
            r.benefit_id,
            func.count().filter(r.created_at >= day).label("today"),
            func.count().filter(r.created_at >= month).label("this_month"),
            func.count().filter(r.created_at >= year).label("this_year"),
            func.count().label("lifetime"),
        )
        .where(r.member_id == member_id, r.state.in_(("RESERVED", "ISSUED")))
        .group_by(r.benefit_id)
    )
    if benefit_id is not None:
        query = query.where(r.benefit_id == benefit_id)
    rows = await run(executor, query)
    return {row.benefit_id: Usage(row.today, row.this_month, row.this_year, row.lifetime) for row in rows}


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
