"""The entity types of the benefits subgraph.

`Partner @key(id)` and `Benefit @key(id)` are owned here; `Member @key(id)` is the members
subgraph's, referenced (and given `eligibleBenefits`, `codes`) here. Each concept writes its fields
in its own section below, with the resolvers in that concept's schema module, so the concepts can
grow side by side.
"""

from __future__ import annotations

import enum
from datetime import datetime

import strawberry

from services.benefits.catalogue.answers import BenefitView, BudgetView
from services.benefits.catalogue.answers import EligibleBenefit as EligibleAnswer
from services.benefits.catalogue.rules import MemberFacts
from services.benefits.schema import catalogue
from services.benefits.schema.catalogue import (
    BenefitKind,
    BenefitStatus,
    BudgetPeriod,
    DeliveryMode,
    IneligibilityReason,
)
from services.benefits.schema.scalars import Long
from shared.errors import InvalidInput
from shared.federation import Info
from shared.ids import parse_id

# --- partners (schema/partners.py) ------------------------------------------------------------------

# PLACEHOLDER until the partners concept's `Partner` is merged: replace this class with that one and
# give it the two catalogue fields below (`benefits`, `budget`) exactly as written here.


@strawberry.federation.type(keys=["id"], description="An alliance partner (a brand or platform).")
class Partner:
    id: strawberry.ID
    benefits = strawberry.field(
        resolver=catalogue.partner_benefits,
        description="The partner's benefits as the caller may see them (the catalogue, for this partner).",
    )
    budget = strawberry.field(
        resolver=catalogue.partner_budget,
        description="The budget of all the partner's benefits this period: the partner, staff and services; else null.",
    )

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> Partner:
        return cls(id=id)


# --- catalogue and budgets (schema/catalogue.py) -------------------------------------------------------


@strawberry.type(description="An amount of money: minor units (e.g. fen, cents) and an ISO 4217 currency code.")
class Amount:
    amount_minor: Long
    currency: str


def _amount(minor: int | None, currency: str) -> Amount | None:
    return Amount(amount_minor=Long(minor), currency=currency) if minor is not None else None


@strawberry.type(description="Redemptions per member; null: no limit.")
class BenefitLimits:
    per_day: int | None
    per_month: int | None
    lifetime: int | None


@strawberry.enum(description="A budget of one benefit, or of all of a partner's benefits.")
class BudgetScope(enum.Enum):
    BENEFIT = "BENEFIT"
    PARTNER = "PARTNER"


@strawberry.type(description="A cap on settlement value per period, with alert thresholds (each fires once a period).")
class Budget:
    id: strawberry.ID
    scope: BudgetScope
    partner_id: strawberry.ID
    benefit_id: strawberry.ID | None
    period: BudgetPeriod
    period_start: datetime = strawberry.field(description="The current period's first instant (UTC).")
    limit: Amount
    reserved: Amount = strawberry.field(description="Held by redemptions in flight.")
    spent: Amount = strawberry.field(description="Owed for issued redemptions this period.")
    remaining: Amount
    thresholds_percent: list[int]
    alerted_percent: list[int] = strawberry.field(description="Thresholds that fired this period.")
    hard_stop: bool = strawberry.field(description="Redemptions over the limit are refused (BUDGET_EXHAUSTED).")
    updated_at: datetime

    @classmethod
    def of(cls, view: BudgetView) -> Budget:
        money = lambda minor: Amount(amount_minor=Long(minor), currency=view.currency)  # noqa: E731
        return cls(
            id=strawberry.ID(str(view.id)), scope=BudgetScope(view.scope), partner_id=strawberry.ID(str(view.partner_id)),
            benefit_id=strawberry.ID(str(view.benefit_id)) if view.benefit_id else None, period=BudgetPeriod(view.period),
            period_start=view.period_start, limit=money(view.limit_minor), reserved=money(view.reserved_minor),
            spent=money(view.spent_minor), remaining=money(view.remaining_minor),
            thresholds_percent=list(view.thresholds_percent), alerted_percent=list(view.alerted_percent),
            hard_stop=view.hard_stop, updated_at=view.updated_at,
        )


@strawberry.federation.type(keys=["id"], description="Something a member can redeem points for, owned by one partner.")
class Benefit:
    id: strawberry.ID
    kind: BenefitKind
    delivery: DeliveryMode
    status: BenefitStatus
    title: str
    description: str
    image_url: str | None
    categories: list[str]
    tags: list[str]
    points_price: Long
    settlement_price: Amount | None = strawberry.field(
        description="Paid to the partner per redemption: for the partner, staff and services; else null."
    )
    face_value: Amount | None = strawberry.field(description="Vouchers: what the code is worth at the partner.")
    terms: str | None
    validity_days: int | None = strawberry.field(description="Vouchers: valid this many days after issue.")
    valid_until: datetime | None = strawberry.field(description="Vouchers: valid until this time.")
    platform: str | None = strawberry.field(description="Video memberships: the platform.")
    duration_days: int | None = strawberry.field(description="Video memberships: days of membership.")
    min_tier: str | None
    available_from: datetime | None
    available_until: datetime | None
    limits: BenefitLimits
    stock_total: Long | None = strawberry.field(description="RECHARGE: the total stock, null if unlimited. CODE: null (the pool).")
    birthday_perk: bool = strawberry.field(description="Redeemable once a year, in the member's birthday month.")
    redeemable_now: bool = strawberry.field(description="ACTIVE, its partner redeeming, in its window, in stock, within budget.")
    unavailable_reasons: list[IneligibilityReason] = strawberry.field(  # type: ignore[valid-type]
        description="Why nobody can redeem it now (empty when redeemableNow)."
    )
    created_at: datetime
    updated_at: datetime
    view: strawberry.Private[BenefitView]

    budget = strawberry.field(
        resolver=catalogue.benefit_budget,
        description="This benefit's own budget this period: for the partner, staff and services; else null.",
    )

    @classmethod
    def of(cls, view: BenefitView) -> Benefit:
        return cls(
            id=strawberry.ID(str(view.id)), kind=BenefitKind(view.kind), delivery=DeliveryMode(view.delivery),
            status=BenefitStatus(view.status), title=view.title, description=view.description, image_url=view.image_url,
            categories=list(view.categories), tags=list(view.tags), points_price=Long(view.points_price),
            settlement_price=_amount(view.settlement_minor, view.currency), face_value=_amount(view.face_value_minor, view.currency),
            terms=view.terms, validity_days=view.validity_days, valid_until=view.valid_until, platform=view.platform,
            duration_days=view.duration_days, min_tier=view.min_tier, available_from=view.available_from,
            available_until=view.available_until,
            limits=BenefitLimits(per_day=view.limit_per_day, per_month=view.limit_per_month, lifetime=view.limit_lifetime),
            stock_total=Long(view.stock_total) if view.stock_total is not None else None, birthday_perk=view.birthday_perk,
            redeemable_now=view.redeemable_now, unavailable_reasons=list(view.unavailable), created_at=view.created_at,
            updated_at=view.updated_at, view=view,
        )

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> Benefit | None:
        """References from other subgraphs: one query per batch (the request's DataLoader); null for a
        benefit the caller may not see."""
        found = await catalogue.benefits_loader(info).load(parse_id(id))
        return cls.of(found) if found is not None else None

    @strawberry.field(description="The partner that owns the benefit.")
    async def partner(self, info: Info) -> Partner:
        return await Partner.resolve_reference(info=info, id=strawberry.ID(str(self.view.partner_id)))


@strawberry.type(description="A benefit as one member sees it: can they redeem it now, and if not, why.")
class EligibleBenefit:
    benefit: Benefit
    redeemable: bool
    reasons: list[IneligibilityReason] = strawberry.field(  # type: ignore[valid-type]
        description="Every reason the member cannot redeem it now, most basic first (empty when redeemable)."
    )
    interest_matches: int = strawberry.field(description="How many of the member's categories of interest it matches.")

    @classmethod
    def of(cls, answer: EligibleAnswer) -> EligibleBenefit:
        return cls(benefit=Benefit.of(answer.benefit), redeemable=answer.redeemable, reasons=list(answer.reasons),
                   interest_matches=answer.interest)


# --- members (the members subgraph's entity, referenced here) -------------------------------------------

# Declared exactly as the members subgraph declares them: composition requires it of external types.


@strawberry.enum(description="ACTIVE, SUSPENDED or ERASED.")
class MemberStatus(enum.Enum):
    ACTIVE = "ACTIVE"
    SUSPENDED = "SUSPENDED"
    ERASED = "ERASED"


@strawberry.federation.type(description="A member's benefit interests and how often they may be notified.")
class MemberPreferences:
    categories: list[str] = strawberry.federation.field(external=True)


# `eligibleBenefits` takes the member's tier, status, birthday month and interests by @requires rather
# than by calling members itself: the gateway fetches them in the one members fetch it plans anyway
# (batched for every member in the response), with the caller's own credentials so the members
# subgraph's rules decide what the caller may see, and benefits makes no service-to-service call
# while answering a read. The facts are only as trustworthy as the gateway: a client calling this
# subgraph directly could pass itself a higher tier, which only changes its own view — a redemption
# decides with `check_eligibility` on facts the redemption saga reads from members itself.
@strawberry.federation.type(keys=["id"], description="An alliance member (owned by the members subgraph).")
class Member:
    id: strawberry.ID
    tier: str = strawberry.federation.field(external=True, default="")
    status: MemberStatus = strawberry.federation.field(external=True, default=MemberStatus.ACTIVE)
    birthday_month: int | None = strawberry.federation.field(external=True, default=None)
    preferences: MemberPreferences | None = strawberry.federation.field(external=True, default=None)
    known: strawberry.Private[bool] = False  # whether the representation carried the required fields

    eligible_benefits = strawberry.federation.field(
        resolver=catalogue.member_eligible_benefits,
        requires=["tier status birthdayMonth preferences { categories }"],
        description=(
            "Every ACTIVE benefit with whether this member can redeem it now and why not, best first: matching their "
            "interests, then redeemable, then cheaper. The member themself, staff and services."
        ),
    )

    @classmethod
    def resolve_reference(
        cls,
        id: strawberry.ID,
        tier: str | None = None,
        status: str | None = None,
        birthdayMonth: int | None = None,  # noqa: N803 - the representation's own key
        preferences: dict | None = None,
        **_: object,
    ) -> Member:
        categories = (preferences or {}).get("categories") or []
        known = tier is not None and status in MemberStatus.__members__
        return cls(
            id=id, tier=tier or "", status=MemberStatus(status) if known else MemberStatus.ACTIVE,
            birthday_month=birthdayMonth if isinstance(birthdayMonth, int) else None,
            preferences=MemberPreferences(categories=[c for c in categories if isinstance(c, str)]) if preferences else None,
            known=known,
        )

    def facts(self) -> MemberFacts:
        if not self.known:
            raise InvalidInput(
                "eligibleBenefits needs the member's tier and status from the members subgraph: ask through the gateway",
                field="tier",
            )
        return MemberFacts(
            member_id=parse_id(self.id), tier=self.tier, status=self.status.value, birthday_month=self.birthday_month,
            categories=tuple(self.preferences.categories) if self.preferences else (),
        )


ENTITY_TYPES: list[type] = [Partner, Benefit, Member]
