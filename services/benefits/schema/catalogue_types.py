"""The catalogue's GraphQL types other than the entities: enums, inputs, money, limits, budgets, and
the per-request loaders of benefits and budgets. `types.py` (the entities) and `catalogue.py` (the root
fields) both build on these, so neither needs the other.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import strawberry

from services.benefits.catalogue import budgets, inputs, rules, service
from services.benefits.catalogue.answers import BudgetView
from shared.federation.scalars import Long
from shared.federation import Info
from shared.ids import parse_id


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

REFUND_WINDOW = (
    "Members may ask for a refund of an unused redemption within this many days of it; null: only operators refund."
)
REFUND_WINDOW_INPUT = f"{REFUND_WINDOW} From 0 to {inputs.MAX_REFUND_WINDOW_DAYS}."


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
    "limits", "stock_total", "birthday_perk", "refund_window_days",
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
    refund_window_days: int | None = strawberry.field(default=None, description=REFUND_WINDOW_INPUT)

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
    refund_window_days: int | None = strawberry.field(default=strawberry.UNSET, description=REFUND_WINDOW_INPUT)

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


# --- outputs -------------------------------------------------------------------------------------------


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


# --- loaders ---------------------------------------------------------------------------------------------


def benefits_loader(info: Info):  # noqa: ANN201
    ctx = info.context
    return ctx.loader("benefits.byId", lambda ids: service.load_benefits(ctx.db, ctx.principal, ids))


def budgets_loader(info: Info):  # noqa: ANN201
    ctx = info.context
    return ctx.loader("benefits.budgets", lambda keys: budgets.budgets_for(ctx.db, ctx.principal, keys))
