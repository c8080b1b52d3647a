"""Root field of operators' figures."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from shared.federation import Info
from shared.federation.scalars import Long

from services.redemptions.reporting import service as reporting
from services.redemptions.reporting.answers import BenefitFigures, Figures, PartnerFigures, Settlement
from services.redemptions.schema.types import Benefit, Partner


def _id(value: object) -> strawberry.ID:
    return strawberry.ID(str(value))


@strawberry.type(description="Settlement value in one currency, in minor units.")
class RedemptionSettlement:
    currency: str
    completed_minor: Long = strawberry.field(description="Owed to the partner for redemptions completed in the period.")
    refunded_minor: Long = strawberry.field(description="Reversed by refunds in the period.")

    @classmethod
    def of(cls, s: Settlement) -> RedemptionSettlement:
        return cls(currency=s.currency, completed_minor=s.completed_minor, refunded_minor=s.refunded_minor)


@strawberry.type(description="One partner's redemptions in the period (the partner owns the benefits redeemed).")
class PartnerRedemptionFigures:
    partner: Partner = strawberry.field(description="Ask for its `budget` (benefits) and `points` (liability, points) here.")
    completed: int
    points_redeemed: Long
    refunds: int
    points_refunded: Long
    settlement: list[RedemptionSettlement] = strawberry.field(description="Per currency.")

    @classmethod
    def of(cls, p: PartnerFigures) -> PartnerRedemptionFigures:
        return cls(partner=Partner(id=_id(p.partner_id)), completed=p.completed, points_redeemed=p.points_redeemed, refunds=p.refunds,
                   points_refunded=p.points_refunded, settlement=[RedemptionSettlement.of(s) for s in p.settlement])


@strawberry.type(description="One benefit's redemptions completed in the period, and how many of their codes have been used since.")
class BenefitRedemptionFigures:
    benefit: Benefit = strawberry.field(description="Ask for its `budget` (budget burn, benefits) here.")
    partner: Partner
    completed: int
    codes_issued: int = strawberry.field(description="Codes delivered by those redemptions (refunded ones included).")
    codes_used: int = strawberry.field(description="… written off at the partner since.")
    codes_voided: int = strawberry.field(description="… voided by a refund.")
    usage_rate: float | None = strawberry.field(description="codesUsed / codesIssued (the write-off rate); null without codes.")

    @classmethod
    def of(cls, b: BenefitFigures) -> BenefitRedemptionFigures:
        return cls(benefit=Benefit(id=_id(b.benefit_id)), partner=Partner(id=_id(b.partner_id)), completed=b.completed,
                   codes_issued=b.codes_issued, codes_used=b.codes_used, codes_voided=b.codes_voided, usage_rate=b.usage_rate)


@strawberry.type(description="Redemptions in [from, to): each counted in the period it started, completed, failed or was refunded in.")
class RedemptionFigures:
    start: datetime = strawberry.field(name="from")
    end: datetime = strawberry.field(name="to")
    started: int
    completed: int
    failed: int
    refunded: int
    needing_attention: int = strawberry.field(description="Started in the period and waiting for operators now.")
    members_redeemed: int = strawberry.field(description="Distinct members with a redemption completed in the period: the "
                                                         "redemption rate's numerator (see redemptionFigures).")
    points_redeemed: Long = strawberry.field(description="Points of the redemptions completed in the period.")
    points_refunded: Long = strawberry.field(description="Points given back by refunds in the period.")
    refund_rate: float | None = strawberry.field(description="refunded / completed, both in the period; null without completions.")
    partners: list[PartnerRedemptionFigures] = strawberry.field(description="Most points redeemed first.")
    benefits: list[BenefitRedemptionFigures] = strawberry.field(description="Most completions first.")

    @classmethod
    def of(cls, f: Figures) -> RedemptionFigures:
        return cls(start=f.start, end=f.end, started=f.started, completed=f.completed, failed=f.failed, refunded=f.refunded,
                   needing_attention=f.needing_attention, members_redeemed=f.members_redeemed, points_redeemed=f.points_redeemed,
                   points_refunded=f.points_refunded, refund_rate=f.refund_rate,
                   partners=[PartnerRedemptionFigures.of(p) for p in f.partners],
                   benefits=[BenefitRedemptionFigures.of(b) for b in f.benefits])


FIGURES_DESCRIPTION = """Staff: redemptions in [from, to), per partner and per benefit.

The rest of the operators' figures belong to the services that own their data; ask for them in the same
document through the gateway:
- redemption rate = membersRedeemed / members' `memberCount(status: ACTIVE)` (active members now);
- budget burn: `partners { partner { budget { limit spent reserved remaining } } }` and
  `benefits { benefit { budget { … } } }` (benefits; the current budget period);
- net settlement position: `partners { partner { points { outstandingLiability } } }` (points: the earning
  liability) beside points' `settlementStatement(partnerId, from, to)` (receivable, payable and net per
  counterparty) for each partner listed here."""


@strawberry.type
class ReportingQueries:
    @strawberry.field(description=FIGURES_DESCRIPTION)
    async def redemption_figures(self, info: Info, start: Annotated[datetime, strawberry.argument(name="from")],
                                 end: Annotated[datetime, strawberry.argument(name="to")]) -> RedemptionFigures:
        return RedemptionFigures.of(await reporting.figures(info.context.db, info.context.principal, start, end))
