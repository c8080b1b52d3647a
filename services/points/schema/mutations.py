"""The subgraph's mutations: each parses its input, calls one service-layer operation with the
caller's principal (which decides access), and turns the answer into a type. Every mutation that
moves value takes an idempotency key (purchases: their external id)."""

from __future__ import annotations

import strawberry

from services.points import jobs
from services.points.audit import checkpoints
from services.points.earning import service as earning
from services.points.earning.rules import PurchaseInput as Purchase
from services.points.ledger import service as ledger
from services.points.partners import service as partners
from services.points.schema.checkpoints import TakenCheckpoint
from services.points.schema.inputs import (
    AdjustInput,
    CampaignInput,
    CaptureInput,
    HoldInput,
    PointsProgramInput,
    PurchaseInput,
    RefundInput,
    ReturnInput,
    TierMultiplierInput,
)
from services.points.schema.results import (
    AdjustResult,
    CampaignView,
    CaptureResult,
    EarningPolicyView,
    PurchaseItemResult,
    PurchaseResult,
    RefundResult,
    ReleaseResult,
    ReturnResult,
)
from shared.federation.scalars import Long
from services.points.schema.types import Hold, MemberPoints, PointsProgram
from services.points.spending import service as spending
from shared.errors import DomainError
from shared.federation import Info
from shared.ids import parse_id


PointsJob = strawberry.enum(jobs.Job, name="PointsJob", description="The scheduled jobs of the points service.")


@strawberry.type
class JobResult:
    job: PointsJob  # type: ignore[valid-type]
    members: int
    lots: int
    holds: int
    points: Long
    events: int

    @classmethod
    def of(cls, r: jobs.JobResult) -> JobResult:
        return cls(job=r.job, members=r.members, lots=r.lots, holds=r.holds, points=r.points, events=r.events)


def _optional_id(value: strawberry.ID | None, field: str):  # type: ignore[no-untyped-def]  # noqa: ANN202
    return parse_id(value, field) if value else None


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Record a purchase (its partner, or an alliance service).")
    async def record_purchase(self, info: Info, input: PurchaseInput) -> PurchaseResult:
        return PurchaseResult.of(await earning.record_purchase(info.context.db, info.context.principal, input.domain()))

    @strawberry.mutation(description="Record up to 1,000 purchases; each item gets its result or its error.")
    async def record_purchases(self, info: Info, purchases: list[PurchaseInput]) -> list[PurchaseItemResult]:
        items: list[Purchase | DomainError] = []
        for item in purchases:
            try:
                items.append(item.domain())
            except DomainError as error:  # that item's error, in its place
                items.append(error)
        results = await earning.record_purchases(info.context.db, info.context.principal, items)
        return [PurchaseItemResult.of(index, result) for index, result in enumerate(results)]

    @strawberry.mutation(description="Record a return: claws back what the purchase earned, in proportion.")
    async def record_return(self, info: Info, input: ReturnInput) -> ReturnResult:
        answer = await earning.record_return(
            info.context.db, info.context.principal, partner_id=parse_id(input.partner_id, "partnerId"),
            external_id=input.external_id, return_key=input.idempotency_key, amount_minor=input.amount_minor, currency=input.currency,
        )
        return ReturnResult.of(answer)

    @strawberry.mutation(description="Alliance services: reserve points, first-expiring first.")
    async def hold_points(self, info: Info, input: HoldInput) -> Hold:
        answer = await spending.hold_points(
            info.context.db, info.context.principal, member_id=parse_id(input.member_id, "memberId"), points=input.points,
            ttl_seconds=input.ttl_seconds, reference=input.reference, idempotency_key=input.idempotency_key,
        )
        return Hold.of(answer)

    @strawberry.mutation(description="Alliance services: capture a hold (fully or partly) and book settlement.")
    async def capture_hold(self, info: Info, input: CaptureInput) -> CaptureResult:
        s = input.settlement
        answer = await spending.capture_hold(
            info.context.db, info.context.principal, hold_id=parse_id(input.hold_id, "holdId"), points=input.points,
            beneficiary_partner_id=parse_id(s.beneficiary_partner_id, "beneficiaryPartnerId"), value_minor=s.value_minor,
            currency=s.currency, idempotency_key=input.idempotency_key,
        )
        return CaptureResult.of(answer)

    @strawberry.mutation(description="Alliance services: release a hold.")
    async def release_hold(self, info: Info, hold_id: strawberry.ID, idempotency_key: str) -> ReleaseResult:
        answer = await spending.release_hold(
            info.context.db, info.context.principal, hold_id=parse_id(hold_id, "holdId"), idempotency_key=idempotency_key
        )
        return ReleaseResult.of(answer)

    @strawberry.mutation(description="Alliance services: return captured points to their lots (or grace lots if expired).")
    async def refund_capture(self, info: Info, input: RefundInput) -> RefundResult:
        answer = await spending.refund_capture(
            info.context.db, info.context.principal, hold_id=parse_id(input.hold_id, "holdId"), points=input.points,
            reason=input.reason, idempotency_key=input.idempotency_key,
        )
        return RefundResult.of(answer)

    @strawberry.mutation(description="Operators: credit or debit a member's points with a reason (audited).")
    async def adjust_points(self, info: Info, input: AdjustInput) -> AdjustResult:
        answer = await earning.adjust_points(
            info.context.db, info.context.principal, member_id=parse_id(input.member_id, "memberId"), points=input.points,
            reason=input.reason, idempotency_key=input.idempotency_key,
            issuer_partner_id=_optional_id(input.issuer_partner_id, "issuerPartnerId"),
        )
        return AdjustResult.of(answer)

    @strawberry.mutation(description="Operators: register or change a partner's points programme.")
    async def set_points_program(self, info: Info, input: PointsProgramInput) -> PointsProgram:
        program = await partners.set_programme(
            info.context.db, info.context.principal, partner_id=parse_id(input.partner_id, "partnerId"), currency=input.currency,
            name=input.name, earning_enabled=input.earning_enabled, earn_points=input.earn_points, earn_per_minor=input.earn_per_minor,
            return_window_days=input.return_window_days, expiry_months=input.expiry_months, cost_per_point_minor=input.cost_per_point_minor,
            max_purchase_minor=input.max_purchase_minor, max_points_per_member_day=input.max_points_per_member_day,
            max_purchase_age_days=input.max_purchase_age_days,
        )
        return PointsProgram.of(program)

    @strawberry.mutation(description="Operators: the tier and birthday multipliers (basis points, 10000 = 1x).")
    async def set_earning_policy(
        self, info: Info, tier_multipliers: list[TierMultiplierInput], birthday_multiplier_bps: int
    ) -> EarningPolicyView:
        policy = await earning.set_earning_policy(
            info.context.db, info.context.principal, tier_multipliers={t.tier: t.multiplier_bps for t in tier_multipliers},
            birthday_multiplier=birthday_multiplier_bps,
        )
        return EarningPolicyView.of(policy)

    @strawberry.mutation(description="Operators: a time-boxed earning campaign.")
    async def create_points_campaign(self, info: Info, input: CampaignInput) -> CampaignView:
        campaign = await earning.create_campaign(
            info.context.db, info.context.principal, name=input.name, multiplier_bps=input.multiplier_bps,
            starts_at=input.starts_at, ends_at=input.ends_at, partner_id=_optional_id(input.partner_id, "partnerId"),
            category=input.category,
        )
        return CampaignView.of(campaign)

    @strawberry.mutation(description="Operators: end a campaign now; null if it had not started (it is removed).")
    async def end_points_campaign(self, info: Info, id: strawberry.ID) -> CampaignView | None:
        ended = await earning.end_campaign(info.context.db, info.context.principal, parse_id(id))
        return CampaignView.of(ended) if ended else None

    @strawberry.mutation(description="Services and operators: what points keeps about a member (the birthday month).")
    async def set_points_profile(self, info: Info, member_id: strawberry.ID, birthday_month: int | None) -> MemberPoints:
        balances = await ledger.set_points_profile(
            info.context.db, info.context.principal, member_id=parse_id(member_id, "memberId"), birthday_month=birthday_month
        )
        return MemberPoints.of(balances)

    @strawberry.mutation(description="Operators: run a scheduled job now (idempotent: a second run changes nothing).")
    async def run_points_job(self, info: Info, job: PointsJob) -> JobResult:  # type: ignore[valid-type]
        return JobResult.of(await jobs.run_job(info.context.db, info.context.principal, jobs.Job(job.value)))

    @strawberry.mutation(description="Operators: sign every member's chain head into the next ledger checkpoint now.")
    async def take_ledger_checkpoint(self, info: Info) -> TakenCheckpoint:
        return TakenCheckpoint.of(await checkpoints.take_checkpoint(info.context.db, info.context.principal))
