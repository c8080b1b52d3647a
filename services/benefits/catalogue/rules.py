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
        return tuple(order).index(code.strip().upper())
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
    day, month, lifetime = benefit.limit_per_day, benefit.limit_per_month, benefit.limit_lifetime
    return (
        (day is not None and usage.today >= day)
        or (month is not None and usage.this_month >= month)
        or (lifetime is not None and usage.lifetime >= lifetime)
    )


def budget_allows(benefit: BenefitFacts) -> bool:
    return benefit.budget_headroom_minor is None or benefit.budget_headroom_minor >= benefit.settlement_minor


def benefit_reasons(benefit: BenefitFacts, now: datetime) -> tuple[Reason, ...]:
    """Whatever stops anyone from redeeming the benefit now (`redeemableNow` in the catalogue)."""
    return decide(benefit, None, NO_USAGE, now, ())


def decide(
    benefit: BenefitFacts, member: MemberFacts | None, usage: Usage, now: datetime, tier_order: Sequence[str]
) -> tuple[Reason, ...]:
    """Every reason this member cannot redeem this benefit now, in `Reason` order; () = redeemable.
    Without a member, only the benefit's own reasons. (Called for every benefit of a member's
    view, so it appends in order rather than sorting.)"""
    reasons: list[Reason] = []
    if benefit.status != "ACTIVE" or not benefit.partner_redeems:
        reasons.append(Reason.NOT_AVAILABLE)
    if member is not None and member.status != "ACTIVE":
        reasons.append(Reason.MEMBER_NOT_ACTIVE)
    if not in_window(benefit, now):
        reasons.append(Reason.NOT_IN_WINDOW)
    if member is not None:
        if benefit.min_tier is not None and not meets_tier(member.tier, benefit.min_tier, tier_order):
            reasons.append(Reason.TIER_TOO_LOW)
        if benefit.birthday_perk and member.birthday_month != now.astimezone(UTC).month:
            reasons.append(Reason.NOT_BIRTHDAY_MONTH)
        if limit_reached(benefit, usage):
            reasons.append(Reason.LIMIT_REACHED)
    if not benefit.in_stock:
        reasons.append(Reason.OUT_OF_STOCK)
    if not budget_allows(benefit):
        reasons.append(Reason.BUDGET_EXHAUSTED)
    return tuple(reasons)


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


class Ranker:
    """`rank`'s order, produced incrementally: fed benefits in (interest descending, points, id)
    order, it hands out verdicts as soon as their place is certain. Within one interest group the
    redeemable come first in points order, so each goes out as it arrives; the others wait for the
    end of their group. A page of a large catalogue thus needs only the benefits before its end.

    `after` is a rank key (`Verdict.rank_key`): only verdicts ranked after it are handed out."""

    def __init__(
        self,
        member: MemberFacts,
        usage: dict[uuid.UUID, Usage],
        now: datetime,
        tier_order: Sequence[str],
        after: tuple[int, int, int, uuid.UUID] | None = None,
    ) -> None:
        self.member, self.usage, self.now, self.tier_order, self.after = member, usage, now, tuple(tier_order), after
        self._group: int | None = None
        self._waiting: list[Verdict] = []

    def _out(self, verdicts: list[Verdict]) -> list[Verdict]:
        return verdicts if self.after is None else [v for v in verdicts if v.rank_key() > self.after]

    def push(self, benefit: BenefitFacts, interest_count: int) -> list[Verdict]:
        ready = self.finish() if interest_count != self._group else []
        self._group = interest_count
        verdict = Verdict(benefit, decide(benefit, self.member, self.usage.get(benefit.id, NO_USAGE), self.now, self.tier_order), interest_count)
        if verdict.redeemable:
            ready.extend(self._out([verdict]))
        else:
            self._waiting.append(verdict)
        return ready

    def finish(self) -> list[Verdict]:
        """The group's remaining verdicts (at a group's end or the end of the benefits)."""
        waiting, self._waiting = self._waiting, []
        return self._out(waiting)


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
