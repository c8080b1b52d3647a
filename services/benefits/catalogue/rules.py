"""Pure decisions of the catalogue: eligibility, ranking, status changes, budget periods and alerts.

No I/O here: the service layer reads the facts in one batched read and asks these functions.
Times are UTC; calendar boundaries (day, month, year, birthday month) are UTC ones.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

# --- eligibility ----------------------------------------------------------------------------------


class Reason(str, enum.Enum):
    """Why a member cannot redeem a benefit now. Declared in the order they are checked: the first
    one is what a redemption is refused with."""

    NOT_AVAILABLE = "NOT_AVAILABLE"  # the benefit is not ACTIVE, or its partner may not redeem now
    MEMBER_NOT_ACTIVE = "MEMBER_NOT_ACTIVE"
    NOT_IN_WINDOW = "NOT_IN_WINDOW"
    TIER_TOO_LOW = "TIER_TOO_LOW"
    NOT_BIRTHDAY_MONTH = "NOT_BIRTHDAY_MONTH"
    LIMIT_REACHED = "LIMIT_REACHED"
    OUT_OF_STOCK = "OUT_OF_STOCK"
    BUDGET_EXHAUSTED = "BUDGET_EXHAUSTED"


@dataclass(frozen=True, slots=True)
class MemberFacts:
    """What eligibility needs to know of a member (from the members service)."""

    member_id: uuid.UUID
    tier: str
    status: str
    birthday_month: int | None = None
    categories: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class BenefitFacts:
    """What eligibility needs to know of a benefit, its partner, its stock and its budgets now."""

    id: uuid.UUID
    partner_id: uuid.UUID
    status: str
    partner_redeems: bool  # the partner is ACTIVE and has the REDEMPTION role
    points_price: int
    settlement_minor: int
    min_tier: str | None = None
    available_from: datetime | None = None
    available_until: datetime | None = None
    valid_until: datetime | None = None  # a voucher's fixed end date
    limit_per_day: int | None = None
    limit_per_month: int | None = None
    limit_lifetime: int | None = None
    birthday_perk: bool = False
    categories: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    in_stock: bool = True
    # The least room left in the benefit's and its partner's hard-stop budgets this period, in
    # settlement minor units; None when no hard-stop budget applies.
    budget_headroom_minor: int | None = None


@dataclass(frozen=True, slots=True)
class Usage:
    """A member's reservations of one benefit (RESERVED or ISSUED) since the UTC day, month and year
    started, and in all."""

    today: int = 0
    this_month: int = 0
    this_year: int = 0
    lifetime: int = 0


NO_USAGE = Usage()


@dataclass(frozen=True, slots=True)
class Verdict:
    benefit: BenefitFacts
    reasons: tuple[Reason, ...]
    interest: int  # how many of the member's categories the benefit's categories and tags match

    @property
    def redeemable(self) -> bool:
        return not self.reasons

    def rank_key(self) -> tuple[int, int, int, uuid.UUID]:
        """Ascending sort key: interests first, then redeemable, then cheaper, then id (for stability)."""
        return (-self.interest, 0 if self.redeemable else 1, self.benefit.points_price, self.benefit.id)


def tier_rank(code: str | None, order: Sequence[str]) -> int:
    """The tier's place in `order` (0 = lowest); -1 for a code not in it, which ranks lowest."""
    if code is None:
        return -1
    try:
        return list(order).index(code.strip().upper())
    except ValueError:
        return -1


def meets_tier(member_tier: str, min_tier: str | None, order: Sequence[str]) -> bool:
    """A benefit with no minimum is open to every tier. A minimum that is not in `order` (the setting
    changed after it was set) admits nobody: failing closed beats giving a GOLD benefit to everyone."""
    if min_tier is None:
        return True
    needed = tier_rank(min_tier, order)
    return needed >= 0 and tier_rank(member_tier, order) >= needed


def in_window(benefit: BenefitFacts, now: datetime) -> bool:
    if benefit.available_from is not None and now < benefit.available_from:
        return False
    if benefit.available_until is not None and now >= benefit.available_until:
        return False
    # A voucher past its fixed end date would be issued already expired.
    return benefit.valid_until is None or now < benefit.valid_until


def limit_reached(benefit: BenefitFacts, usage: Usage) -> bool:
    if benefit.birthday_perk and usage.this_year >= 1:
        return True  # a birthday perk is once per (UTC) year
    limits = ((benefit.limit_per_day, usage.today), (benefit.limit_per_month, usage.this_month), (benefit.limit_lifetime, usage.lifetime))
    return any(limit is not None and used >= limit for limit, used in limits)


def budget_allows(benefit: BenefitFacts) -> bool:
    return benefit.budget_headroom_minor is None or benefit.budget_headroom_minor >= benefit.settlement_minor


def benefit_reasons(benefit: BenefitFacts, now: datetime) -> tuple[Reason, ...]:
    """Whatever stops anyone from redeeming the benefit now (`redeemableNow` in the catalogue)."""
    reasons = []
    if benefit.status != "ACTIVE" or not benefit.partner_redeems:
        reasons.append(Reason.NOT_AVAILABLE)
    if not in_window(benefit, now):
        reasons.append(Reason.NOT_IN_WINDOW)
    if not benefit.in_stock:
        reasons.append(Reason.OUT_OF_STOCK)
    if not budget_allows(benefit):
        reasons.append(Reason.BUDGET_EXHAUSTED)
    return tuple(reasons)


def decide(
    benefit: BenefitFacts, member: MemberFacts, usage: Usage, now: datetime, tier_order: Sequence[str]
) -> tuple[Reason, ...]:
    """Every reason this member cannot redeem this benefit now, in `Reason` order; () = redeemable."""
    found = set(benefit_reasons(benefit, now))
    if member.status != "ACTIVE":
        found.add(Reason.MEMBER_NOT_ACTIVE)
    if not meets_tier(member.tier, benefit.min_tier, tier_order):
        found.add(Reason.TIER_TOO_LOW)
    if benefit.birthday_perk and member.birthday_month != now.astimezone(UTC).month:
        found.add(Reason.NOT_BIRTHDAY_MONTH)
    if limit_reached(benefit, usage):
        found.add(Reason.LIMIT_REACHED)
    return tuple(reason for reason in Reason if reason in found)


def interest(benefit: BenefitFacts, member: MemberFacts) -> int:
    wanted = set(member.categories)
    return len(wanted & (set(benefit.categories) | set(benefit.tags))) if wanted else 0


def rank(
    benefits: Iterable[BenefitFacts],
    member: MemberFacts,
    usage: dict[uuid.UUID, Usage],
    now: datetime,
    tier_order: Sequence[str],
) -> list[Verdict]:
    """Each benefit's verdict for the member, best first (see `Verdict.rank_key`)."""
    verdicts = [
        Verdict(b, decide(b, member, usage.get(b.id, NO_USAGE), now, tier_order), interest(b, member)) for b in benefits
    ]
    verdicts.sort(key=Verdict.rank_key)
    return verdicts


# --- calendar ----------------------------------------------------------------------------------------


def day_start(now: datetime) -> datetime:
    return now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def month_start(now: datetime) -> datetime:
    """The start of the budget period (and of the monthly limit) that `now` falls in."""
    return day_start(now).replace(day=1)


def year_start(now: datetime) -> datetime:
    return month_start(now).replace(month=1)


# --- status ------------------------------------------------------------------------------------------

# DRAFT → ACTIVE → PAUSED → ACTIVE …; any of them → RETIRED, which is final.
TRANSITIONS: dict[str, frozenset[str]] = {
    "DRAFT": frozenset({"ACTIVE", "RETIRED"}),
    "ACTIVE": frozenset({"PAUSED", "RETIRED"}),
    "PAUSED": frozenset({"ACTIVE", "RETIRED"}),
    "RETIRED": frozenset(),
}


def may_move(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, frozenset())


# --- budget alerts -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BudgetState:
    limit_minor: int
    reserved_minor: int
    spent_minor: int
    thresholds_percent: tuple[int, ...]
    alerted_percent: tuple[int, ...] = field(default=())

    @property
    def used_minor(self) -> int:
        return self.reserved_minor + self.spent_minor

    @property
    def remaining_minor(self) -> int:
        return max(self.limit_minor - self.used_minor, 0)


def thresholds_reached(state: BudgetState) -> tuple[int, ...]:
    """Thresholds that the budget's use (reserved + spent) has reached and that have not fired yet
    this period, lowest first. Nothing fires while nothing is used (a zero budget included)."""
    used = state.used_minor
    if used <= 0:
        return ()
    fired = set(state.alerted_percent)
    return tuple(
        sorted(t for t in set(state.thresholds_percent) if t not in fired and used * 100 >= t * state.limit_minor)
    )
