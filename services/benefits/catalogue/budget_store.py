"""The SQL of budgets: a benefit's and a partner's budget, and what each period has reserved and spent.

Concurrency is the database's job here. A reservation locks the period rows of the budgets it
counts against in budget id order (so two reservations never deadlock), checks all of them against
their limits and takes the amount from all or none, in one statement. Thresholds that fire are
marked on the locked row in the same transaction, so each fires once per period.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import and_, func, or_, select, text
from sqlalchemy.dialects.postgresql import ARRAY, insert

from services.benefits.catalogue.store import Executor, benefits_t, budgets_t, periods_t, reservations_t, run

bu, bp = budgets_t.c, periods_t.c

# The budgets a benefit counts against: its own and its partner's (uq_budgets_target's partner_id prefix).
_TARGETS = "bu.partner_id = :partner_id AND (bu.benefit_id = :benefit_id OR bu.benefit_id IS NULL)"

_ENSURE_PERIODS = text(
    f"""
    INSERT INTO benefits.budget_periods (budget_id, period_start)
    SELECT bu.id, :period_start FROM benefits.budgets bu WHERE {_TARGETS} ORDER BY bu.id
    ON CONFLICT DO NOTHING
    """
)

# All or nothing: `fits` is false if any hard-stop budget would go over its limit, and then nothing
# is updated. FOR UPDATE returns the latest committed amounts (READ COMMITTED re-reads a row it
# waited for), and the UPDATE applies to that same latest version.
_RESERVE = text(
    f"""
    WITH locked AS MATERIALIZED (
        SELECT bp.budget_id, bu.benefit_id, bu.currency, bu.limit_minor, bu.hard_stop, bu.thresholds_percent,
               bp.reserved_minor, bp.spent_minor, bp.alerted_percent
        FROM benefits.budget_periods bp JOIN benefits.budgets bu ON bu.id = bp.budget_id
        WHERE {_TARGETS} AND bp.period_start = :period_start
        ORDER BY bp.budget_id
        FOR UPDATE OF bp
    ),
    verdict AS (
        SELECT count(*) AS budgets,
               coalesce(bool_and(NOT hard_stop OR reserved_minor + spent_minor + :amount <= limit_minor), true) AS fits
        FROM locked
    ),
    taken AS (
        UPDATE benefits.budget_periods bp SET reserved_minor = bp.reserved_minor + :amount
        FROM locked, verdict
        WHERE verdict.fits AND bp.budget_id = locked.budget_id AND bp.period_start = :period_start
        RETURNING bp.budget_id, bp.reserved_minor, bp.spent_minor, bp.alerted_percent
    )
    SELECT verdict.budgets, verdict.fits, taken.budget_id, taken.reserved_minor, taken.spent_minor,
           taken.alerted_percent, locked.benefit_id, locked.currency, locked.limit_minor, locked.thresholds_percent
    FROM verdict
    LEFT JOIN taken ON true
    LEFT JOIN locked ON locked.budget_id = taken.budget_id
    ORDER BY taken.budget_id
    """
).columns(
    # Typed, so ids come back as uuid.UUID (not the driver's own type).
    sa.column("budgets", sa.BigInteger), sa.column("fits", sa.Boolean), sa.column("budget_id", sa.Uuid),
    sa.column("reserved_minor", sa.BigInteger), sa.column("spent_minor", sa.BigInteger),
    sa.column("alerted_percent", ARRAY(sa.Integer)), sa.column("benefit_id", sa.Uuid), sa.column("currency", sa.String),
    sa.column("limit_minor", sa.BigInteger), sa.column("thresholds_percent", ARRAY(sa.Integer)),
)


def _move(assignments: str) -> sa.TextClause:
    """Gives back or moves an amount on the benefit's budgets in one period, locking in id order.
    Amounts never go below zero: a budget set while a redemption was in flight never counted it."""
    return text(
        f"""
        WITH locked AS MATERIALIZED (
            SELECT bp.budget_id FROM benefits.budget_periods bp JOIN benefits.budgets bu ON bu.id = bp.budget_id
            WHERE {_TARGETS} AND bp.period_start = :period_start
            ORDER BY bp.budget_id
            FOR UPDATE OF bp
        )
        UPDATE benefits.budget_periods bp SET {assignments}
        FROM locked WHERE bp.budget_id = locked.budget_id AND bp.period_start = :period_start
        RETURNING bp.budget_id
        """
    ).columns(sa.column("budget_id", sa.Uuid))


_RELEASE_RESERVED = _move("reserved_minor = GREATEST(bp.reserved_minor - :amount, 0)")
_RELEASE_SPENT = _move("spent_minor = GREATEST(bp.spent_minor - :amount, 0)")
_COMMIT = _move("reserved_minor = GREATEST(bp.reserved_minor - :amount, 0), spent_minor = bp.spent_minor + :amount")


def _params(partner_id: uuid.UUID, benefit_id: uuid.UUID, amount: int, period_start: datetime) -> dict[str, Any]:
    return {"partner_id": partner_id, "benefit_id": benefit_id, "amount": amount, "period_start": period_start}


async def reserve(executor: Executor, partner_id: uuid.UUID, benefit_id: uuid.UUID, amount: int, period_start: datetime) -> list[Any]:
    """Rows of `_RESERVE`: the first says how many budgets apply and whether the amount fits; each
    budget taken from has its new amounts, limit and thresholds."""
    params = _params(partner_id, benefit_id, amount, period_start)
    await run(executor, _ENSURE_PERIODS, params)
    return list(await run(executor, _RESERVE, params))


async def release(executor: Executor, partner_id: uuid.UUID, benefit_id: uuid.UUID, amount: int, period_start: datetime, *, spent: bool) -> list[uuid.UUID]:
    statement = _RELEASE_SPENT if spent else _RELEASE_RESERVED
    return [row.budget_id for row in await run(executor, statement, _params(partner_id, benefit_id, amount, period_start))]


async def commit(executor: Executor, partner_id: uuid.UUID, benefit_id: uuid.UUID, amount: int, period_start: datetime) -> list[uuid.UUID]:
    return [row.budget_id for row in await run(executor, _COMMIT, _params(partner_id, benefit_id, amount, period_start))]


async def mark_alerted(executor: Executor, budget_id: uuid.UUID, period_start: datetime, percents: Sequence[int]) -> None:
    """Adds fired thresholds to the period's list (the row is locked by this transaction)."""
    await run(
        executor,
        sa.update(periods_t)
        .where(bp.budget_id == budget_id, bp.period_start == period_start)
        .values(alerted_percent=func.array_cat(bp.alerted_percent, sa.cast(list(percents), periods_t.c.alerted_percent.type))),
    )


# --- budgets themselves ---------------------------------------------------------------------------------


async def upsert(executor: Executor, values: dict[str, Any]) -> tuple[Any, bool]:
    """Creates or changes the budget of (partner, benefit or none); returns the row and whether it is new."""
    statement = insert(budgets_t).values(**values)
    statement = statement.on_conflict_do_update(
        constraint="uq_budgets_target",
        set_={k: statement.excluded[k] for k in ("limit_minor", "currency", "thresholds_percent", "hard_stop", "period", "updated_at")},
    ).returning(*budgets_t.c, (sa.literal_column("xmax") == 0).label("created"))
    row = (await run(executor, statement)).one()
    return row, bool(row.created)


async def in_flight(executor: Executor, partner_id: uuid.UUID, benefit_id: uuid.UUID | None, period_start: datetime) -> tuple[int, int]:
    """What this period's reservations of the benefit (or of all the partner's benefits) have
    reserved and spent: a budget set mid-period starts from them."""
    r = reservations_t.c
    target = r.benefit_id == benefit_id if benefit_id is not None else benefits_t.c.partner_id == partner_id
    query = (
        select(
            func.coalesce(func.sum(r.settlement_minor).filter(r.state == "RESERVED"), 0),
            func.coalesce(func.sum(r.settlement_minor).filter(r.state == "ISSUED"), 0),
        )
        .select_from(reservations_t.join(benefits_t, benefits_t.c.id == r.benefit_id))
        .where(target, r.period_start == period_start)
    )
    reserved, spent = (await run(executor, query)).one()
    return int(reserved), int(spent)


async def start_period(executor: Executor, budget_id: uuid.UUID, period_start: datetime, reserved: int, spent: int) -> None:
    await run(
        executor,
        insert(periods_t)
        .values(budget_id=budget_id, period_start=period_start, reserved_minor=reserved, spent_minor=spent)
        .on_conflict_do_nothing(),
    )


async def lock_period(executor: Executor, budget_id: uuid.UUID, period_start: datetime) -> Any:
    rows = await run(executor, select(periods_t).where(bp.budget_id == budget_id, bp.period_start == period_start).with_for_update())
    return rows.first()


_VIEW = (
    *budgets_t.c,
    func.coalesce(bp.reserved_minor, 0).label("reserved_minor"),
    func.coalesce(bp.spent_minor, 0).label("spent_minor"),
    func.coalesce(bp.alerted_percent, sa.cast([], periods_t.c.alerted_percent.type)).label("alerted_percent"),
)


async def load(executor: Executor, targets: Sequence[tuple[uuid.UUID, uuid.UUID | None]], period_start: datetime) -> dict[tuple[uuid.UUID, uuid.UUID | None], Any]:
    """Budgets by (partner_id, benefit_id or None) with this period's amounts; absent ones left out."""
    if not targets:
        return {}
    of_benefits = [(pid, bid) for pid, bid in set(targets) if bid is not None]
    of_partners = list({pid for pid, bid in targets if bid is None})
    wanted = []
    if of_benefits:  # both through uq_budgets_target
        wanted.append(sa.tuple_(bu.partner_id, bu.benefit_id).in_(of_benefits))
    if of_partners:
        wanted.append(and_(bu.partner_id.in_(of_partners), bu.benefit_id.is_(None)))
    joined = budgets_t.outerjoin(periods_t, and_(bp.budget_id == bu.id, bp.period_start == period_start))
    rows = await run(executor, select(*_VIEW).select_from(joined).where(or_(*wanted)))
    return {(row.partner_id, row.benefit_id): row for row in rows}
