"""The entity types of the benefits subgraph, and the entity fields each concept gives them.

`Partner @key(id)` and `Benefit @key(id)` are owned here; `Member @key(id)` is the members
subgraph's, referenced (and given `eligibleBenefits`, `codes`) here. The concepts' other types live
in partner_types.py, catalogue_types.py and codes_types.py; the codes fields come in as mixins, and
the concepts' types reach the entities through `refs` (filled at the end of this module), so no
module imports this one back.
"""

from __future__ import annotations

import dataclasses
import enum
import uuid
from datetime import datetime

import strawberry

from shared.errors import InvalidInput
from shared.federation import Info
from shared.graphql_pagination import Connection
from shared.ids import parse_id

from services.benefits.catalogue import eligibility, inputs, service
from services.benefits.catalogue.answers import BenefitView
from services.benefits.catalogue.answers import EligibleBenefit as EligibleAnswer
from services.benefits.catalogue.rules import MemberFacts
from services.benefits.partners.answers import PartnerView
from services.benefits.schema import refs
from services.benefits.schema.catalogue_types import (
    Amount,
    BenefitFilter,
    BenefitKind,
    BenefitLimits,
    BenefitSort,
    BenefitStatus,
    Budget,
    DeliveryMode,
    REFUND_WINDOW,
    IneligibilityReason,
    _amount,
    benefits_loader,
    budgets_loader,
)
from services.benefits.schema.codes_types import BenefitCodeFields, MemberCodeFields, PartnerCodeFields
from services.benefits.schema.delivery_types import PartnerDeliveryFields
from services.benefits.schema.partner_types import (
    PartnerApiKey,
    PartnerContact,
    PartnerRole,
    PartnerStatus,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookSecret,
    api_keys_loader,
    deliveries_loader,
    partners_loader,
    secrets_loader,
)
from shared.federation.scalars import Long

# --- the catalogue's entity fields (resolvers; the classes below use them) -------------------------------


async def benefit_budget(root: Benefit, info: Info) -> Budget | None:
    found = await budgets_loader(info).load((root.view.partner_id, root.view.id))
    return Budget.of(found) if found else None


async def partner_budget(root: Partner, info: Info) -> Budget | None:
    found = await budgets_loader(info).load((parse_id(root.id), None))
    return Budget.of(found) if found else None


async def partner_benefits(
    root: Partner,
    info: Info,
    filter: BenefitFilter | None = None,
    sort: BenefitSort = inputs.Sort.POINTS_ASC,  # type: ignore[valid-type]
    first: int | None = None,
    after: str | None = None,
) -> Connection[Benefit]:
    flt = dataclasses.replace(filter.domain() if filter else inputs.CatalogueFilter(), partner_id=parse_id(root.id))
    page = await service.list_benefits(info.context.db, info.context.principal, flt, inputs.Sort(sort.value), first, after)
    return Connection.from_page(page, Benefit.of)


async def member_eligible_benefits(
    root: Member, info: Info, first: int | None = None, after: str | None = None, category: str | None = None
) -> Connection[EligibleBenefit]:
    page = await eligibility.eligible_benefits(
        info.context.db, info.context.principal, root.facts(), first=first, after=after, category=category
    )
    return Connection.from_page(page, EligibleBenefit.of)


# --- partners -------------------------------------------------------------------------------------------


@strawberry.federation.type(
    keys=["id"],
    description=(
        "An alliance partner (a brand or platform). Its public face (name, brand, status, logo, categories) "
        "is readable by every signed-in caller; the other fields are null except for the partner itself, "
        "staff and alliance services."
    ),
)
class Partner(PartnerCodeFields, PartnerDeliveryFields):
    id: strawberry.ID
    name: str
    brand: str
    status: PartnerStatus  # type: ignore[valid-type]
    logo_url: str | None
    categories: list[str]
    roles: list[PartnerRole] | None  # type: ignore[valid-type]
    currency: str | None = strawberry.field(description="ISO 4217: what its settlements are in.")
    contact: PartnerContact | None
    webhook_url: str | None
    fulfilment_url: str | None = strawberry.field(description="Where recharges of its video memberships are delivered.")
    status_reason: str | None = strawberry.field(description="Why it was suspended.")
    version: int | None = strawberry.field(description="Grows with every change of the partner.")
    created_at: datetime | None
    updated_at: datetime | None
    view: strawberry.Private[PartnerView]

    @classmethod
    def of(cls, v: PartnerView) -> Partner:
        return cls(
            id=strawberry.ID(str(v.id)), name=v.name, brand=v.brand, status=v.status, logo_url=v.logo_url,
            categories=list(v.categories), roles=list(v.roles) if v.roles is not None else None, currency=v.currency,
            contact=PartnerContact(name=v.contact_name, email=v.contact_email) if v.private else None,
            webhook_url=v.webhook_url, fulfilment_url=v.fulfilment_url, status_reason=v.status_reason, version=v.version,
            created_at=v.created_at, updated_at=v.updated_at, view=v,
        )

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> Partner | None:
        """References from other subgraphs (a lot's issuer): any signed-in caller, batched per
        request; an id that is no partner resolves to null."""
        found = await partners_loader(info).load(parse_id(id))
        return cls.of(found) if found is not None else None

    @strawberry.field(description="Its API keys (metadata), newest first.")
    async def api_keys(self, info: Info) -> list[PartnerApiKey] | None:
        found = await api_keys_loader(info).load(self.view.id)
        return [PartnerApiKey.of(k) for k in found] if found is not None else None

    @strawberry.field(description="The webhook signing secrets that sign now (two during a rotation's overlap).")
    async def webhook_secrets(self, info: Info) -> list[WebhookSecret] | None:
        found = await secrets_loader(info).load(self.view.id)
        return [WebhookSecret.of(s) for s in found] if found is not None else None

    @strawberry.field(description="Webhooks sent to it, newest first.")
    async def webhook_deliveries(
        self, info: Info, first: int | None = None, after: str | None = None,
        status: WebhookDeliveryStatus | None = None,  # type: ignore[valid-type]
    ) -> Connection[WebhookDelivery] | None:
        page = await deliveries_loader(info, status, first, after).load(self.view.id)
        return Connection[WebhookDelivery].from_page(page, WebhookDelivery.of) if page is not None else None

    benefits = strawberry.field(
        resolver=partner_benefits,
        description="The partner's benefits as the caller may see them (the catalogue, for this partner).",
    )
    budget = strawberry.field(
        resolver=partner_budget,
        description="The budget of all the partner's benefits this period: the partner, staff and services; else null.",
    )



# --- benefits -------------------------------------------------------------------------------------------


@strawberry.federation.type(keys=["id"], description="Something a member can redeem points for, owned by one partner.")
class Benefit(BenefitCodeFields):
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
    refund_window_days: int | None = strawberry.field(description=REFUND_WINDOW)
    redeemable_now: bool = strawberry.field(description="ACTIVE, its partner redeeming, in its window, in stock, within budget.")
    unavailable_reasons: list[IneligibilityReason] = strawberry.field(  # type: ignore[valid-type]
        description="Why nobody can redeem it now (empty when redeemableNow)."
    )
    created_at: datetime
    updated_at: datetime
    view: strawberry.Private[BenefitView]

    budget = strawberry.field(
        resolver=benefit_budget,
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
            refund_window_days=view.refund_window_days, redeemable_now=view.redeemable_now, unavailable_reasons=list(view.unavailable), created_at=view.created_at,
            updated_at=view.updated_at, view=view,
        )

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> Benefit | None:
        """References from other subgraphs: one query per batch (the request's DataLoader); null for a
        benefit the caller may not see."""
        found = await benefits_loader(info).load(parse_id(id))
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
class Member(MemberCodeFields):
    id: strawberry.ID
    tier: str = strawberry.federation.field(external=True, default="")
    status: MemberStatus = strawberry.federation.field(external=True, default=MemberStatus.ACTIVE)
    birthday_month: int | None = strawberry.federation.field(external=True, default=None)
    preferences: MemberPreferences | None = strawberry.federation.field(external=True, default=None)
    known: strawberry.Private[bool] = False  # whether the representation carried the required fields

    eligible_benefits = strawberry.federation.field(
        resolver=member_eligible_benefits,
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


async def _benefit_ref(info: Info, benefit_id: uuid.UUID) -> Benefit | None:
    found = await benefits_loader(info).load(benefit_id)
    return Benefit.of(found) if found is not None else None


async def _partner_ref(info: Info, partner_id: uuid.UUID) -> Partner | None:
    found = await partners_loader(info).load(partner_id)
    return Partner.of(found) if found is not None else None


async def _member_ref(info: Info, member_id: uuid.UUID) -> Member:
    return Member(id=strawberry.ID(str(member_id)))


refs.register("Partner", _partner_ref)
refs.register("Benefit", _benefit_ref)
refs.register("Member", _member_ref)

ENTITY_TYPES: list[type] = [Partner, Benefit, Member]
