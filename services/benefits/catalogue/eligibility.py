"""A member's view of the catalogue: for each ACTIVE benefit, can this member redeem it now, and if
not, why; ranked for them. And the same decision for one benefit inside a redemption.

The member's facts (tier, status, birthday month, categories of interest) come from the members
service: through federation for `Member.eligibleBenefits`, from the redemption saga for
`check_eligibility`. Everything else is read here — the member's reservations in one query, the
benefits with their stock, budgets and partner in batches read in the ranking's order (one batch
for a first page, as a rule) — and decided by `rules`: the pure `rules.decide`, in `rules.rank`'s order.
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from services.benefits import access
from services.benefits.catalogue import inputs, ranked, rules, store
from services.benefits.catalogue.answers import EligibleBenefit
from services.benefits.catalogue.rules import BenefitFacts, MemberFacts, Reason
from services.benefits.catalogue.service import view
from services.benefits.config import get_benefits_settings
from services.benefits.errors import BudgetExhausted, MemberNotActive, NotAvailable, OutOfStock, TierTooLow
from shared.auth.principals import Principal
from shared.database import Database
from shared.errors import DomainError, InvalidInput, LimitExceeded, NotFound
from shared.pagination import Page, PageRequest, encode_cursor
from shared.timeutil import utcnow

CURSOR_TYPES = (int, bool, int, uuid.UUID)  # interest, redeemable, points price, id
# Benefits read at first (None: twice the page, as most benefits are redeemable by most members);
# each further read takes four times more.
FIRST_BATCH: int | None = None


def _cursor(verdict: rules.Verdict) -> str:
    return encode_cursor((verdict.interest, verdict.redeemable, verdict.benefit.points_price, verdict.benefit.id))


def _resume(values: tuple[object, ...] | None) -> tuple[tuple[int, int, int, uuid.UUID] | None, ranked.Start | None]:
    """The cursor's rank key, and where the ranked read starts for it: the groups of more interest
    all come before it; in its own group, after its benefit if it was not redeemable (redeemable ones
    of the group all came before), else from the group's start (its unredeemable ones come after)."""
    if values is None:
        return None, None
    interest, redeemable, points, benefit_id = values
    key = (-int(interest), 0 if redeemable else 1, int(points), benefit_id)  # type: ignore[call-overload,arg-type]
    start: ranked.Start = (int(interest),) if redeemable else (int(interest), int(points), benefit_id)  # type: ignore[call-overload,assignment,arg-type]
    return key, start  # type: ignore[return-value]


def _interests(member: MemberFacts) -> tuple[str, ...]:
    # The member's categories arrive with the request: keep at most members' own bound of valid slugs.
    return tuple(dict.fromkeys(c for c in member.categories if isinstance(c, str) and inputs.SLUG.fullmatch(c)))[:20]


async def eligible_benefits(
    db: Database,
    principal: Principal,
    member: MemberFacts,
    *,
    first: int | None = None,
    after: str | None = None,
    category: str | None = None,
    now: datetime | None = None,
) -> Page[EligibleBenefit]:
    """Every ACTIVE benefit of an ACTIVE partner (or of one category) with this member's verdict,
    best first: matching the member's interests, then redeemable, then cheaper (`rules.rank`).

    The benefits are read in the ranking's own order in growing batches and decided by
    `rules.Ranker` until the page is full, so a page costs what comes before its end, not the
    whole catalogue. One snapshot (REPEATABLE READ) for the member's reservations and every batch."""
    access.require_eligibility_reader(principal, member.member_id)
    if category is not None:
        category = inputs.slugs("category", [category], 1)[0]
    page = PageRequest(first, after, cursor_types=CURSOR_TYPES)
    now = now or utcnow()
    period_start = rules.month_start(now)
    member = dataclasses.replace(member, categories=_interests(member))
    after_key, start = _resume(page.after_values)
    wanted = page.fetch_limit
    verdicts: list[rules.Verdict] = []
    async with db.engine.connect() as connection:
        connection = await connection.execution_options(isolation_level="REPEATABLE READ")
        async with connection.begin():
            usage = await store.member_usage(
                connection, member.member_id, day=rules.day_start(now), month=period_start, year=rules.year_start(now)
            )
            ranker = rules.Ranker(member, usage, now, get_benefits_settings().tiers, after_key)
            batch = FIRST_BATCH or 2 * wanted
            while len(verdicts) < wanted:
                rows = await ranked.ranked_facts(connection, member.categories, category, start, batch, period_start=period_start)
                for facts, interest in rows:
                    verdicts.extend(ranker.push(facts, interest))
                    if len(verdicts) >= wanted:
                        break
                if len(rows) < batch:
                    if ranked.in_interested_part(member.categories, start):
                        start = (0,)  # the benefits matching the member's interests are done: the rest follow
                        continue
                    verdicts.extend(ranker.finish())
                    break
                last, last_interest = rows[-1]
                start, batch = (last_interest, last.points_price, last.id), batch * 4
            shown = verdicts[: page.first]
            rows_by_id = await store.load(connection, [v.benefit.id for v in shown], now=now, period_start=period_start)
    items = [EligibleBenefit(view(rows_by_id[v.benefit.id], principal, now), v.reasons, v.interest) for v in shown]
    return Page(items, [_cursor(v) for v in shown], len(verdicts) > len(shown), page.after is not None)


# --- inside a redemption -------------------------------------------------------------------------------

_ERRORS: dict[Reason, tuple[type[DomainError], str]] = {
    Reason.NOT_AVAILABLE: (NotAvailable, "the benefit is not available for redemption"),
    Reason.MEMBER_NOT_ACTIVE: (MemberNotActive, "the member is not active"),
    Reason.NOT_IN_WINDOW: (NotAvailable, "the benefit is outside its availability window"),
    Reason.TIER_TOO_LOW: (TierTooLow, "the member's tier is below the benefit's minimum tier"),
    Reason.NOT_BIRTHDAY_MONTH: (NotAvailable, "a birthday perk is redeemable only in the member's birthday month"),
    Reason.LIMIT_REACHED: (LimitExceeded, "the member has reached this benefit's limit"),
    Reason.OUT_OF_STOCK: (OutOfStock, "the benefit is out of stock"),
    Reason.BUDGET_EXHAUSTED: (BudgetExhausted, "the benefit's budget for this period is used up"),
}


def error_for(benefit_id: uuid.UUID, reasons: tuple[Reason, ...]) -> DomainError:
    """The typed error of the first reason; `reasons` lists them all."""
    error, message = _ERRORS[reasons[0]]
    return error(message, benefitId=str(benefit_id), reason=reasons[0].value, reasons=[r.value for r in reasons])


async def check_eligibility(session: AsyncSession, benefit_id: uuid.UUID, member: MemberFacts, now: datetime) -> BenefitFacts:
    """Raises the typed error for the first reason this member cannot redeem the benefit now, in the
    caller's transaction; answers the benefit's facts (points and settlement price) if they can.

    It takes a transaction-long lock on (member, benefit), so concurrent redemptions of one benefit
    by one member are counted one after the other: the caller must insert its reservation in the
    same transaction, at READ COMMITTED (the default). Stock and budget are checked here as they
    stand; reserving them (codes, `reserve_budget`) is what holds them."""
    if not isinstance(member.member_id, uuid.UUID):
        raise InvalidInput("memberId is not a valid id", field="memberId")
    await store.lock_member_benefit(session, member.member_id, benefit_id)
    period_start = rules.month_start(now)
    facts = await store.facts(session, benefit_id, period_start=period_start)
    if facts is None:
        raise NotFound("no such benefit", id=str(benefit_id))
    usage = await store.member_usage(
        session, member.member_id, day=rules.day_start(now), month=period_start, year=rules.year_start(now), benefit_id=benefit_id
    )
    reasons = rules.decide(facts, member, usage.get(benefit_id, rules.NO_USAGE), now, get_benefits_settings().tiers)
    if reasons:
        raise error_for(benefit_id, reasons)
    return facts
