"""The catalogue's GraphQL: `benefits`, `benefit`, the benefit and budget mutations, and the entity
fields other types take from here (`Partner.benefits`, `Partner.budget`, `Benefit.budget`,
`Member.eligibleBenefits`). Each resolver calls one service-layer function.

`types` imports this module (for those entity fields), so this one names the output types lazily
(`strawberry.lazy`) and reaches them at call time through `_types()`: no import cycle at load time.
"""

from __future__ import annotations

import dataclasses
import enum
import importlib
from datetime import datetime
from types import ModuleType
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from services.benefits.catalogue import budgets, eligibility, inputs, rules, service
from services.benefits.schema.scalars import Long
from shared.federation import Info
from shared.graphql_pagination import Connection
from shared.ids import parse_id

if TYPE_CHECKING:
    from services.benefits.schema.types import Benefit, Budget, EligibleBenefit, Member, Partner

_TYPES = "services.benefits.schema.types"
BenefitT = Annotated["Benefit", strawberry.lazy(_TYPES)]
BudgetT = Annotated["Budget", strawberry.lazy(_TYPES)]
EligibleBenefitT = Annotated["EligibleBenefit", strawberry.lazy(_TYPES)]


def _types() -> ModuleType:
    return importlib.import_module(_TYPES)


# --- enums (used by inputs and by the types) ------------------------------------------------------------


@strawberry.enum(description="VOUCHER: a code worth a face value at the partner. VIDEO_MEMBERSHIP: days on a video platform.")
class BenefitKind(enum.Enum):
    VOUCHER = "VOUCHER"
    VIDEO_MEMBERSHIP = "VIDEO_MEMBERSHIP"


@strawberry.enum(description="CODE: a code from the benefit's pool. RECHARGE: credited to the member's platform account.")
class DeliveryMode(enum.Enum):
    CODE = "CODE"
    RECHARGE = "RECHARGE"


@strawberry.enum(description="Only ACTIVE benefits are redeemable. DRAFT → ACTIVE ⇄ PAUSED; RETIRED is final.")
class BenefitStatus(enum.Enum):
    DRAFT = "DRAFT"
    ACTIVE = "ACTIVE"
    PAUSED = "PAUSED"
    RETIRED = "RETIRED"


@strawberry.enum(description="A budget's period; periods start on the first of the month, UTC.")
class BudgetPeriod(enum.Enum):
    MONTH = "MONTH"


BenefitSort = strawberry.enum(inputs.Sort, name="BenefitSort", description="The catalogue's orders (ties broken by id).")
IneligibilityReason = strawberry.enum(
    rules.Reason, name="IneligibilityReason", description="Why a benefit cannot be redeemed now (by this member)."
)


# --- inputs -----------------------------------------------------------------------------------------


@strawberry.input(description="Money: minor units and an ISO 4217 currency (a benefit's are its partner's).")
class AmountInput:
    amount_minor: Long
    currency: str


@strawberry.input(description="Redemptions per member; null: no limit.")
class BenefitLimitsInput:
    per_day: int | None = None
    per_month: int | None = None
    lifetime: int | None = None


def _columns(given: Any, names: tuple[str, ...]) -> dict[str, Any]:
    """The input's given fields as benefit columns (UNSET ones left out)."""
    out: dict[str, Any] = {}
    for name in names:
        value = getattr(given, name, strawberry.UNSET)
        if value is strawberry.UNSET:
            continue
        if name == "settlement_price":
            out["settlement_minor"] = value.amount_minor if value else None  # null: "is required"
            if value:
                out["currency"] = value.currency
        elif name == "face_value":
            out["face_value_minor"] = value.amount_minor if value else None
            if value:
                out["face_currency"] = value.currency
        elif name == "limits":
            for key in ("per_day", "per_month", "lifetime"):
                out[f"limit_{key}"] = getattr(value, key) if value else None
        elif isinstance(value, enum.Enum):
            out[name] = value.value
        else:
            out[name] = value
    return out


_EDITABLE = (
    "title", "description", "image_url", "categories", "tags", "points_price", "settlement_price", "face_value", "terms",
    "validity_days", "valid_until", "platform", "duration_days", "min_tier", "available_from", "available_until",
    "limits", "stock_total", "birthday_perk",
)


@strawberry.input(description="A new benefit; it starts as a DRAFT. Vouchers: faceValue and validityDays or validUntil.")
class CreateBenefitInput:
    kind: BenefitKind
    title: str
    points_price: Long
    settlement_price: AmountInput = strawberry.field(description="Paid to the partner per redemption, in its currency.")
    partner_id: strawberry.ID | None = strawberry.field(default=None, description="The calling partner's own by default.")
    delivery: DeliveryMode | None = strawberry.field(default=None, description="VOUCHER: always CODE.")
    description: str | None = None
    image_url: str | None = None
    categories: list[str] | None = strawberry.field(default=None, description="Up to 10 slugs (a–z, 0–9, _ and -).")
    tags: list[str] | None = strawberry.field(default=None, description="Up to 20 slugs.")
    face_value: AmountInput | None = None
    terms: str | None = None
    validity_days: int | None = strawberry.field(default=None, description="Vouchers: valid this many days after issue.")
    valid_until: datetime | None = strawberry.field(default=None, description="Vouchers: valid until this time.")
    platform: str | None = None
    duration_days: int | None = None
    min_tier: str | None = None
    available_from: datetime | None = None
    available_until: datetime | None = None
    limits: BenefitLimitsInput | None = None
    stock_total: Long | None = strawberry.field(default=None, description="RECHARGE only; null: unlimited.")
    birthday_perk: bool = strawberry.field(default=False, description="Once a year, in the member's birthday month.")

    def columns(self) -> dict[str, Any]:
        return {**_columns(self, _EDITABLE), "kind": self.kind.value, "delivery": self.delivery.value if self.delivery else None}


@strawberry.input(description="Fields left out stay as they are; null clears an optional one.")
class UpdateBenefitInput:
    title: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    image_url: str | None = strawberry.UNSET
    categories: list[str] | None = strawberry.UNSET
    tags: list[str] | None = strawberry.UNSET
    points_price: Long | None = strawberry.UNSET
    settlement_price: AmountInput | None = strawberry.UNSET
    face_value: AmountInput | None = strawberry.UNSET
    terms: str | None = strawberry.UNSET
    validity_days: int | None = strawberry.UNSET
    valid_until: datetime | None = strawberry.UNSET
    platform: str | None = strawberry.UNSET
    duration_days: int | None = strawberry.UNSET
    min_tier: str | None = strawberry.UNSET
    available_from: datetime | None = strawberry.UNSET
    available_until: datetime | None = strawberry.UNSET
    limits: BenefitLimitsInput | None = strawberry.UNSET
    stock_total: Long | None = strawberry.UNSET
    birthday_perk: bool | None = strawberry.UNSET

    def columns(self) -> dict[str, Any]:
        return _columns(self, _EDITABLE)


@strawberry.input
class BenefitFilter:
    partner_id: strawberry.ID | None = None
    kind: BenefitKind | None = None
    category: str | None = None
    tag: str | None = None
    redeemable_now: bool | None = strawberry.field(default=None, description="ACTIVE, in its window, in stock, within budget.")
    points_min: Long | None = None
    points_max: Long | None = None
    status: BenefitStatus | None = strawberry.field(default=None, description="Other than ACTIVE: owners and staff.")

    def domain(self) -> inputs.CatalogueFilter:
        return inputs.CatalogueFilter(
            partner_id=parse_id(self.partner_id, "filter.partnerId") if self.partner_id is not None else None,
            kind=self.kind.value if self.kind else None, category=self.category, tag=self.tag,
            redeemable_now=self.redeemable_now, points_min=self.points_min, points_max=self.points_max,
            status=self.status.value if self.status else None,
        )


@strawberry.input(description="A budget of one benefit (benefitId), or of all of a partner's (partnerId only).")
class SetBudgetInput:
    limit: AmountInput = strawberry.field(description="Per period, in settlement value, in the partner's currency.")
    partner_id: strawberry.ID | None = None
    benefit_id: strawberry.ID | None = None
    thresholds_percent: list[int] | None = strawberry.field(default=None, description="Alerts, e.g. [80, 100] (the default).")
    hard_stop: bool = strawberry.field(default=True, description="Refuse redemptions over the limit (BUDGET_EXHAUSTED).")
    period: BudgetPeriod = BudgetPeriod.MONTH

    def domain(self) -> budgets.BudgetInput:
        return budgets.BudgetInput(
            limit_minor=self.limit.amount_minor, currency=self.limit.currency,
            partner_id=parse_id(self.partner_id, "partnerId") if self.partner_id is not None else None,
            benefit_id=parse_id(self.benefit_id, "benefitId") if self.benefit_id is not None else None,
            thresholds_percent=tuple(self.thresholds_percent) if self.thresholds_percent is not None else (80, 100),
            hard_stop=self.hard_stop, period=self.period.value,
        )


# --- loaders and entity fields --------------------------------------------------------------------------


def benefits_loader(info: Info):  # noqa: ANN201
    ctx = info.context
    return ctx.loader("benefits.byId", lambda ids: service.load_benefits(ctx.db, ctx.principal, ids))


def budgets_loader(info: Info):  # noqa: ANN201
    ctx = info.context
    return ctx.loader("benefits.budgets", lambda keys: budgets.budgets_for(ctx.db, ctx.principal, keys))


async def benefit_budget(root: Benefit, info: Info) -> BudgetT | None:  # type: ignore[valid-type]
    found = await budgets_loader(info).load((root.view.partner_id, root.view.id))
    return _types().Budget.of(found) if found else None


async def partner_budget(root: Partner, info: Info) -> BudgetT | None:  # type: ignore[valid-type]
    found = await budgets_loader(info).load((parse_id(root.id), None))
    return _types().Budget.of(found) if found else None


async def partner_benefits(
    root: Partner,
    info: Info,
    filter: BenefitFilter | None = None,
    sort: BenefitSort = inputs.Sort.POINTS_ASC,  # type: ignore[valid-type]
    first: int | None = None,
    after: str | None = None,
) -> Connection[BenefitT]:  # type: ignore[valid-type]
    flt = dataclasses.replace(filter.domain() if filter else inputs.CatalogueFilter(), partner_id=parse_id(root.id))
    page = await service.list_benefits(info.context.db, info.context.principal, flt, inputs.Sort(sort.value), first, after)
    return Connection.from_page(page, _types().Benefit.of)


async def member_eligible_benefits(
    root: Member, info: Info, first: int | None = None, after: str | None = None, category: str | None = None
) -> Connection[EligibleBenefitT]:  # type: ignore[valid-type]
    page = await eligibility.eligible_benefits(
        info.context.db, info.context.principal, root.facts(), first=first, after=after, category=category
    )
    return Connection.from_page(page, _types().EligibleBenefit.of)


# --- root fields ----------------------------------------------------------------------------------------


@strawberry.type
class Queries:
    @strawberry.field(description="The catalogue: members see ACTIVE benefits of ACTIVE partners; partners also all of their own.")
    async def benefits(
        self,
        info: Info,
        filter: BenefitFilter | None = None,
        sort: BenefitSort = inputs.Sort.POINTS_ASC,  # type: ignore[valid-type]
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[BenefitT]:  # type: ignore[valid-type]
        flt = filter.domain() if filter else None
        page = await service.list_benefits(info.context.db, info.context.principal, flt, inputs.Sort(sort.value), first, after)
        return Connection.from_page(page, _types().Benefit.of)

    @strawberry.field(description="One benefit the caller may see.")
    async def benefit(self, info: Info, id: strawberry.ID) -> BenefitT:  # type: ignore[valid-type]
        return _types().Benefit.of(await service.get_benefit(info.context.db, info.context.principal, parse_id(id)))


@strawberry.type
class Mutations:
    @strawberry.mutation(description="Creates a DRAFT benefit (the partner itself, ACTIVE with the REDEMPTION role, or an operator).")
    async def create_benefit(
        self, info: Info, input: CreateBenefitInput, idempotency_key: str | None = None
    ) -> BenefitT:  # type: ignore[valid-type]
        partner_id = parse_id(input.partner_id, "partnerId") if input.partner_id is not None else None
        created = await service.create_benefit(
            info.context.db, info.context.principal, partner_id, input.columns(), idempotency_key=idempotency_key
        )
        return _types().Benefit.of(created)

    @strawberry.mutation(description="Changes a benefit (its partner or an operator); RETIRED ones no longer change.")
    async def update_benefit(self, info: Info, id: strawberry.ID, input: UpdateBenefitInput) -> BenefitT:  # type: ignore[valid-type]
        updated = await service.update_benefit(info.context.db, info.context.principal, parse_id(id), input.columns())
        return _types().Benefit.of(updated)

    @strawberry.mutation(description="Activates, pauses or retires a benefit (its partner or an operator).")
    async def set_benefit_status(self, info: Info, id: strawberry.ID, status: BenefitStatus) -> BenefitT:  # type: ignore[valid-type]
        moved = await service.set_benefit_status(info.context.db, info.context.principal, parse_id(id), status.value)
        return _types().Benefit.of(moved)

    @strawberry.mutation(description="Sets the budget of a benefit or of a partner (the partner itself or an operator).")
    async def set_budget(self, info: Info, input: SetBudgetInput) -> BudgetT:  # type: ignore[valid-type]
        return _types().Budget.of(await budgets.set_budget(info.context.db, info.context.principal, input.domain()))
