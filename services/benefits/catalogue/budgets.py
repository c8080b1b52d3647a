"""Budgets (成本超支预警): a cap on what a benefit, or all of a partner's benefits, may cost in
settlement value per period (a calendar month, UTC), with alert thresholds and a hard stop.

`set_budget` and `budgets_for` serve the API. `reserve_budget`, `release_budget` and `commit_budget`
are called by reservations inside THEIR transaction (they take its session): a reservation takes
the settlement price from the benefit's and the partner's budget at once or fails with
BUDGET_EXHAUSTED; a failed, expired or refunded redemption gives it back; an issued one turns it
from reserved into spent. Thresholds fire once per budget and period, as outbox events.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlmodel.ext.asyncio.session import AsyncSession

from services.benefits import access
from services.benefits.catalogue import budget_store, events, inputs, rules, store
from services.benefits.catalogue.answers import BudgetHold, BudgetView
from services.benefits.errors import BudgetExhausted
from shared.auth.principals import Principal, require_authenticated
from shared.database import Database
from shared.errors import Conflict, InvalidInput, NotFound
from shared.ids import new_id
from shared.timeutil import utcnow

PERIODS = ("MONTH",)
MAX_THRESHOLDS = 10


class BudgetTarget(Protocol):
    """What the budget functions need of a benefit (a stored row or a `BenefitView` will do)."""

    @property
    def id(self) -> uuid.UUID: ...

    @property
    def partner_id(self) -> uuid.UUID: ...


@dataclass(frozen=True, slots=True)
class BudgetInput:
    """A budget for `benefit_id`, or for all of `partner_id`'s benefits when `benefit_id` is None."""

    limit_minor: int
    currency: str
    partner_id: uuid.UUID | None = None
    benefit_id: uuid.UUID | None = None
    thresholds_percent: Sequence[int] = field(default=(80, 100))
    hard_stop: bool = True
    period: str = "MONTH"


def _checked(budget: BudgetInput) -> tuple[int, ...]:
    limit = budget.limit_minor
    if isinstance(limit, bool) or not isinstance(limit, int) or not 0 <= limit <= inputs.MAX_MONEY_MINOR:
        raise InvalidInput(f"limit must be from 0 to {inputs.MAX_MONEY_MINOR} minor units", field="limit.amountMinor")
    if not isinstance(budget.currency, str) or not inputs.CURRENCY.fullmatch(budget.currency):
        raise InvalidInput("currency must be an ISO 4217 code such as CNY", field="limit.currency")
    if budget.period not in PERIODS:
        raise InvalidInput(f"period must be one of {', '.join(PERIODS)}", field="period")
    thresholds = budget.thresholds_percent
    if isinstance(thresholds, (str, bytes)) or len(thresholds) > MAX_THRESHOLDS:
        raise InvalidInput(f"at most {MAX_THRESHOLDS} thresholds", field="thresholdsPercent")
    if any(isinstance(t, bool) or not isinstance(t, int) or not 1 <= t <= 100 for t in thresholds):
        raise InvalidInput("each threshold is a percentage from 1 to 100", field="thresholdsPercent")
    return tuple(sorted(set(thresholds)))


def _view(row: Any, period_start: datetime) -> BudgetView:
    return BudgetView(
        id=row.id, scope=row.scope, partner_id=row.partner_id, benefit_id=row.benefit_id, period=row.period,
        period_start=period_start, limit_minor=row.limit_minor, currency=row.currency,
        reserved_minor=row.reserved_minor, spent_minor=row.spent_minor,
        thresholds_percent=tuple(row.thresholds_percent or ()), alerted_percent=tuple(sorted(row.alerted_percent or ())),
        hard_stop=row.hard_stop, updated_at=row.updated_at,
    )


async def set_budget(db: Database, principal: Principal, budget: BudgetInput, now: datetime | None = None) -> BudgetView:
    """Creates or changes a budget (the partner itself or an operator). A new budget starts from what
    this period's redemptions already reserved and spent; thresholds the new figures reach fire."""
    require_authenticated(principal)
    thresholds = _checked(budget)
    # A benefit's budget belongs to the benefit's partner; a partner's, to the one named (or calling).
    partner_id = budget.partner_id or (access.calling_partner(principal) if budget.benefit_id is None else None)
    if partner_id is None and budget.benefit_id is None:
        raise InvalidInput("name the partner or the benefit the budget is for", field="partnerId")
    now = now or utcnow()
    period_start = rules.month_start(now)

    async def work(session: AsyncSession) -> tuple[uuid.UUID, uuid.UUID | None]:
        owner = partner_id
        if budget.benefit_id is not None:
            facts = await store.facts(session, budget.benefit_id, period_start=period_start)
            if facts is None or (owner is not None and facts.partner_id != owner):
                raise NotFound("no such benefit of this partner", benefitId=str(budget.benefit_id))
            owner = facts.partner_id
        assert owner is not None
        access.require_partner_manager(principal, owner)
        partner = await store.partner(session, owner)
        if partner is None:
            raise NotFound("no such partner", partnerId=str(owner))
        if partner.currency != budget.currency:
            raise InvalidInput(f"budgets are in the partner's currency, {partner.currency}", field="limit.currency")
        row, created = await budget_store.upsert(session, {
            "id": new_id(), "scope": "BENEFIT" if budget.benefit_id else "PARTNER", "partner_id": owner,
            "benefit_id": budget.benefit_id, "period": budget.period, "limit_minor": budget.limit_minor,
            "currency": budget.currency, "thresholds_percent": list(thresholds), "hard_stop": budget.hard_stop, "updated_at": now,
        })
        if created:
            reserved, spent = await budget_store.in_flight(session, owner, budget.benefit_id, period_start)
            await budget_store.start_period(session, row.id, period_start, reserved, spent)
        period = await budget_store.lock_period(session, row.id, period_start)
        if period is not None:
            state = rules.BudgetState(row.limit_minor, period.reserved_minor, period.spent_minor, thresholds, tuple(period.alerted_percent))
            await _fire(session, row.id, owner, budget.benefit_id, row.currency, state, period_start)
        return owner, budget.benefit_id

    owner, benefit_id = await db.run_transaction(work)
    (found,) = await budgets_for(db, principal, [(owner, benefit_id)], now)
    if found is None:
        raise Conflict("the budget changed before it could be read back; read it again")
    return found


async def budgets_for(
    db: Database, principal: Principal, targets: Sequence[tuple[uuid.UUID, uuid.UUID | None]], now: datetime | None = None
) -> list[BudgetView | None]:
    """One per (partner_id, benefit_id or None), in order, with this period's figures: None where no
    budget is set or the caller may not read it (only the partner, staff and services may)."""
    require_authenticated(principal)
    now = now or utcnow()
    period_start = rules.month_start(now)
    readable = [t for t in targets if access.may_read_partner_private(principal, t[0])]
    async with store.reading(db) as connection:
        rows = await budget_store.load(connection, readable, period_start)
    return [_view(rows[t], period_start) if t in rows else None for t in targets]


# --- called by reservations, in their transaction ------------------------------------------------------


def _check(amount_minor: int, period_start: datetime) -> None:
    if isinstance(amount_minor, bool) or not isinstance(amount_minor, int) or amount_minor < 0:
        raise ValueError("amount_minor is a non-negative whole number of minor units")
    if rules.month_start(period_start) != period_start:
        raise ValueError("period_start is the first instant of a month, UTC (rules.month_start)")


async def reserve_budget(session: AsyncSession, benefit: BudgetTarget, amount_minor: int, period_start: datetime) -> BudgetHold:
    """Takes `amount_minor` (the benefit's settlement price) from the benefit's budget and its
    partner's for the period, or raises BUDGET_EXHAUSTED and takes nothing. Thresholds reached fire
    (once each per period) in this transaction."""
    _check(amount_minor, period_start)
    rows = await budget_store.reserve(session, benefit.partner_id, benefit.id, amount_minor, period_start)
    head = rows[0]
    if not head.fits:
        raise BudgetExhausted(
            "the benefit's budget for this period is used up", benefitId=str(benefit.id), reason="BUDGET_EXHAUSTED"
        )
    taken = [row for row in rows if row.budget_id is not None]
    fired: list[tuple[uuid.UUID, int]] = []
    for row in taken:
        state = rules.BudgetState(row.limit_minor, row.reserved_minor, row.spent_minor, tuple(row.thresholds_percent), tuple(row.alerted_percent))
        for percent in await _fire(session, row.budget_id, benefit.partner_id, row.benefit_id, row.currency, state, period_start):
            fired.append((row.budget_id, percent))
    return BudgetHold(budget_ids=tuple(row.budget_id for row in taken), thresholds_fired=tuple(fired))


async def release_budget(
    session: AsyncSession, benefit: BudgetTarget, amount_minor: int, period_start: datetime, *, spent: bool = False
) -> None:
    """Gives back what `reserve_budget` took (a redemption failed or expired), or with `spent=True`
    what `commit_budget` spent (a refund). Thresholds that fired stay fired this period."""
    _check(amount_minor, period_start)
    await budget_store.release(session, benefit.partner_id, benefit.id, amount_minor, period_start, spent=spent)


async def commit_budget(session: AsyncSession, benefit: BudgetTarget, amount_minor: int, period_start: datetime) -> None:
    """The redemption was issued: what it reserved is now spent."""
    _check(amount_minor, period_start)
    await budget_store.commit(session, benefit.partner_id, benefit.id, amount_minor, period_start)


async def _fire(
    session: AsyncSession,
    budget_id: uuid.UUID,
    partner_id: uuid.UUID,
    benefit_id: uuid.UUID | None,
    currency: str,
    state: rules.BudgetState,
    period_start: datetime,
) -> tuple[int, ...]:
    """Marks and publishes the thresholds `state` newly reached; the period row is locked by the caller."""
    reached = rules.thresholds_reached(state)
    if not reached:
        return ()
    await budget_store.mark_alerted(session, budget_id, period_start, reached)
    for percent in reached:
        await events.budget_threshold_reached(
            session, partner_id=partner_id, benefit_id=benefit_id, budget_id=budget_id, percent=percent,
            period_start=period_start, spent_minor=state.spent_minor, reserved_minor=state.reserved_minor,
            limit_minor=state.limit_minor, currency=currency,
        )
    return reached
