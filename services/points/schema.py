"""The points subgraph: queries and mutations, thin over the service layer.

Resolvers check who asks (`access`), turn arguments into service calls and answers into types.
Every mutation that moves value takes an idempotency key (purchases: their external id).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.schema.config import StrawberryConfig

from services.points import access, checks, earning, jobs, partners, reads, service, settlement
from services.points.config import get_points_settings
from services.points.purchases import PurchaseInput as DomainPurchase
from services.points.schema_types import (
    AdjustResult,
    CaptureResult,
    Hold,
    ItemError,
    Long,
    Member,
    MemberPoints,
    Money,
    Partner,
    PointsProgram,
    Purchase,
    PurchaseItemResult,
    PurchaseResult,
    RefundResult,
    ReleaseResult,
    ReturnResult,
    SCALARS,
    SettlementEntry,
    balances_loader,
    partner_ref,
)
from shared.errors import DomainError, Forbidden, InvalidInput
from shared.federation import Info, build_schema
from shared.graphql_pagination import Connection
from shared.ids import parse_id
from shared.pagination import PageRequest

PointsJob = strawberry.enum(jobs.Job, name="PointsJob", description="The scheduled jobs of the points service.")


# --- inputs ------------------------------------------------------------------------------------


@strawberry.input(description="A purchase at an earning partner; (partnerId, externalId) identifies it.")
class PurchaseInput:
    partner_id: strawberry.ID
    member_id: strawberry.ID
    external_id: str = strawberry.field(description="The partner's own id of the purchase: recording it again changes nothing.")
    amount_minor: int
    currency: str
    occurred_at: datetime
    category: str | None = None

    def domain(self) -> DomainPurchase:
        return DomainPurchase(
            partner_id=parse_id(self.partner_id, "partnerId"), member_id=parse_id(self.member_id, "memberId"),
            external_id=self.external_id, amount_minor=self.amount_minor, currency=self.currency,
            occurred_at=self.occurred_at, category=self.category,
        )


@strawberry.input
class ReturnInput:
    partner_id: strawberry.ID
    external_id: str = strawberry.field(description="The purchase's external id.")
    amount_minor: int = strawberry.field(description="The amount returned (of the purchase's amount).")
    currency: str
    idempotency_key: str = strawberry.field(description="The partner's id of this return.")


@strawberry.input
class HoldInput:
    member_id: strawberry.ID
    points: int
    ttl_seconds: int = strawberry.field(description="After this the hold releases itself.")
    reference: str = strawberry.field(description="The caller's reference, e.g. the redemption id.")
    idempotency_key: str


@strawberry.input(description="Who is paid for the captured points and how much in all.")
class SettlementInput:
    beneficiary_partner_id: strawberry.ID
    value_minor: int
    currency: str


@strawberry.input
class CaptureInput:
    hold_id: strawberry.ID
    points: int = strawberry.field(description="At most what the hold reserved; the rest is released.")
    settlement: SettlementInput
    idempotency_key: str


@strawberry.input
class RefundInput:
    hold_id: strawberry.ID
    points: int
    reason: str | None = None
    idempotency_key: str


@strawberry.input
class AdjustInput:
    member_id: strawberry.ID
    points: int = strawberry.field(description="Positive to credit, negative to debit.")
    reason: str
    issuer_partner_id: strawberry.ID | None = strawberry.field(default=None, description="Who funds a credit; the alliance if null.")
    idempotency_key: str


@strawberry.input
class PointsProgramInput:
    partner_id: strawberry.ID
    currency: str
    name: str | None = None
    earning_enabled: bool = True
    earn_points: int = 1
    earn_per_minor: int = 100
    return_window_days: int | None = None
    expiry_months: int | None = None
    cost_per_point_minor: int = 0


@strawberry.input
class TierMultiplierInput:
    tier: str
    multiplier_bps: int


@strawberry.input
class CampaignInput:
    name: str
    multiplier_bps: int = strawberry.field(description="10000 = 1x.")
    starts_at: datetime
    ends_at: datetime
    partner_id: strawberry.ID | None = None
    category: str | None = None


# --- outputs only the schema uses --------------------------------------------------------------


@strawberry.type(description="One counterparty's lines in a partner's settlement statement.")
class StatementLine:
    counterparty: Partner | None = strawberry.field(description="Null: the alliance (alliance-funded points).")
    currency: str
    points_payable: Long = strawberry.field(description="The partner's points redeemed at the counterparty.")
    payable: Money
    points_receivable: Long = strawberry.field(description="The counterparty's points redeemed at the partner.")
    receivable: Money
    net: Money = strawberry.field(description="receivable - payable: positive, the counterparty pays the partner.")


@strawberry.type
class SettlementStatement:
    partner: Partner
    start: datetime
    end: datetime
    lines: list[StatementLine]


@strawberry.type
class LedgerCheckResult:
    ok: bool
    transactions: int
    members: int
    problems: list[str]


@strawberry.type(description="Where a member's hash chain stops holding.")
class BrokenLink:
    member: Member
    sequence: int
    transaction_id: strawberry.ID | None
    reason: str


@strawberry.type
class ChainVerification:
    ok: bool
    chains: int
    transactions: int
    first_broken_link: BrokenLink | None = strawberry.field(description="The earliest break (where tampering began).")
    broken_links: list[BrokenLink] = strawberry.field(description="The first broken link of each broken chain.")


@strawberry.type
class JobResult:
    job: PointsJob  # type: ignore[valid-type]
    members: int
    lots: int
    holds: int
    points: Long
    events: int


@strawberry.type
class CampaignView:
    id: strawberry.ID
    name: str
    partner: Partner | None
    category: str | None
    multiplier_bps: int
    starts_at: datetime
    ends_at: datetime

    @classmethod
    def of(cls, c: earning.CampaignRule) -> CampaignView:
        return cls(
            id=strawberry.ID(str(c.id)), name=c.name, partner=partner_ref(c.partner_id), category=c.category,
            multiplier_bps=c.multiplier_bps, starts_at=c.starts_at, ends_at=c.ends_at,
        )


@strawberry.type
class TierMultiplier:
    tier: str
    multiplier_bps: int


@strawberry.type
class EarningPolicyView:
    tier_multipliers: list[TierMultiplier]
    birthday_multiplier_bps: int

    @classmethod
    def of(cls, p: earning.EarningPolicy) -> EarningPolicyView:
        return cls(
            tier_multipliers=[TierMultiplier(tier=t, multiplier_bps=b) for t, b in sorted(p.tier_multipliers.items())],
            birthday_multiplier_bps=p.birthday_multiplier,
        )


def _broken(link) -> BrokenLink:  # type: ignore[no-untyped-def]
    return BrokenLink(
        member=Member(id=strawberry.ID(str(link.member_id))), sequence=link.sequence,
        transaction_id=strawberry.ID(str(link.transaction_id)) if link.transaction_id else None, reason=link.reason,
    )


def _item_error(error: DomainError) -> ItemError:
    field = error.extensions.get("field")
    return ItemError(code=error.code, message=error.message, field=field if isinstance(field, str) else None)


# --- queries -----------------------------------------------------------------------------------


@strawberry.type
class Query:
    @strawberry.field(description="A member's points (the member themself, staff, services).")
    async def member_points(self, info: Info, member_id: strawberry.ID) -> MemberPoints:
        member = parse_id(member_id, "memberId")
        access.require_member_reader(info.context.principal, member)
        return MemberPoints.of(await balances_loader(info).load(member))

    @strawberry.field(description="A partner as points sees it (the partner itself, operators, services).")
    async def points_partner(self, info: Info, id: strawberry.ID) -> Partner:
        access.require_partner_reader(info.context.principal, parse_id(id))
        return Partner(id=id)

    @strawberry.field(description="A hold (alliance services and operators).")
    async def hold(self, info: Info, id: strawberry.ID) -> Hold:
        access.require_service_or_operator(info.context.principal)
        return Hold.of(await reads.hold_of(info.context.db, parse_id(id)))

    @strawberry.field(description="Recorded purchases, newest first: a partner its own, a member theirs, operators any.")
    async def purchases(
        self, info: Info, partner_id: strawberry.ID | None = None, member_id: strawberry.ID | None = None,
        first: int | None = None, after: str | None = None,
    ) -> Connection[Purchase]:
        partner = parse_id(partner_id, "partnerId") if partner_id else None
        member = parse_id(member_id, "memberId") if member_id else None
        access.require_purchase_reader(info.context.principal, partner_id=partner, member_id=member)
        request = PageRequest(first, after, cursor_types=reads.PURCHASE_CURSOR)
        page = await reads.purchases_page(info.context.db, request, partner_id=partner, member_id=member)
        return Connection[Purchase].from_page(page, Purchase.of)

    @strawberry.field(description="What the partner owes and is owed for redemptions in [from, to), netted per counterparty.")
    async def settlement_statement(
        self, info: Info, partner_id: strawberry.ID, from_: Annotated[datetime, strawberry.argument(name="from")], to: datetime,
    ) -> SettlementStatement:
        partner = parse_id(partner_id, "partnerId")
        access.require_partner_reader(info.context.principal, partner)
        if to <= from_:
            raise InvalidInput("`to` must be after `from`", argument="to")
        lines = await settlement.statement(info.context.db, partner, from_, to)
        return SettlementStatement(
            partner=Partner(id=partner_id), start=from_, end=to,
            lines=[
                StatementLine(
                    counterparty=partner_ref(line.counterparty_id), currency=line.currency,
                    points_payable=line.points_redeemed_by_counterparty, payable=Money(amount_minor=line.payable_minor, currency=line.currency),
                    points_receivable=line.points_redeemed_at_partner, receivable=Money(amount_minor=line.receivable_minor, currency=line.currency),
                    net=Money(amount_minor=line.net_minor, currency=line.currency),
                )
                for line in lines
            ],
        )

    @strawberry.field(description="Operators: the ledger balances and agrees with lots, holds and debt.")
    async def ledger_check(self, info: Info) -> LedgerCheckResult:
        access.require_operator(info.context.principal)
        result = await checks.ledger_check(info.context.db)
        return LedgerCheckResult(ok=result.ok, transactions=result.transactions, members=result.members, problems=result.problems)

    @strawberry.field(description="Operators: recompute every member's hash chain.")
    async def verify_ledger_chain(self, info: Info) -> ChainVerification:
        access.require_operator(info.context.principal)
        result = await checks.verify_chains(info.context.db)
        first = result.first_broken_link
        return ChainVerification(
            ok=result.ok, chains=result.chains, transactions=result.transactions,
            first_broken_link=_broken(first) if first else None, broken_links=[_broken(b) for b in result.broken],
        )

    @strawberry.field(description="Operators: the tier and birthday multipliers.")
    async def earning_policy(self, info: Info) -> EarningPolicyView:
        access.require_operator(info.context.principal)
        return EarningPolicyView.of(await earning.get_policy(info.context.db))

    @strawberry.field(description="Operators: earning campaigns.")
    async def points_campaigns(self, info: Info) -> list[CampaignView]:
        access.require_operator(info.context.principal)
        return [CampaignView.of(c) for c in await earning.list_campaigns(info.context.db)]


# --- mutations ---------------------------------------------------------------------------------


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Record a purchase (its partner, or an alliance service).")
    async def record_purchase(self, info: Info, input: PurchaseInput) -> PurchaseResult:
        principal = info.context.principal
        allowed = access.recording_partner(principal)
        answer = await service.record_purchase(info.context.db, input.domain(), caller=access.actor(principal), allowed_partner=allowed)
        return PurchaseResult.of(answer)

    @strawberry.mutation(description="Record up to 1,000 purchases; each item gets its result or its error.")
    async def record_purchases(self, info: Info, purchases: list[PurchaseInput]) -> list[PurchaseItemResult]:
        principal = info.context.principal
        allowed = access.recording_partner(principal)
        limit = get_points_settings().max_bulk_purchases
        if len(purchases) > limit:
            raise InvalidInput(f"at most {limit} purchases per call", argument="purchases")
        items: list[DomainPurchase | DomainError] = []
        for item in purchases:
            try:
                items.append(item.domain())
            except DomainError as error:
                items.append(error)
        valid = [i for i in items if isinstance(i, DomainPurchase)]
        results = iter(
            await service.record_purchases(info.context.db, valid, caller=access.actor(principal), allowed_partner=allowed)
        )
        out = []
        for index, item in enumerate(items):
            result = item if isinstance(item, DomainError) else next(results)
            if isinstance(result, DomainError):
                out.append(PurchaseItemResult(index=index, result=None, error=_item_error(result)))
            else:
                out.append(PurchaseItemResult(index=index, result=PurchaseResult.of(result), error=None))
        return out

    @strawberry.mutation(description="Record a return: claws back what the purchase earned, in proportion.")
    async def record_return(self, info: Info, input: ReturnInput) -> ReturnResult:
        principal = info.context.principal
        allowed = access.recording_partner(principal)
        partner = parse_id(input.partner_id, "partnerId")
        if allowed is not None and allowed != partner:
            raise Forbidden("a partner may record returns only of its own purchases")
        answer = await service.record_return(
            info.context.db, partner_id=partner, external_id=input.external_id, return_key=input.idempotency_key,
            amount_minor=input.amount_minor, currency=input.currency, caller=access.actor(principal),
        )
        return ReturnResult(
            return_id=strawberry.ID(str(answer.return_id)), purchase_id=strawberry.ID(str(answer.purchase_id)),
            amount_minor=answer.amount_minor, points_clawed_back=answer.points_clawed_back,
            from_purchase_lot=answer.from_purchase_lot, from_other_lots=answer.from_other_lots, as_debt=answer.as_debt,
        )

    @strawberry.mutation(description="Alliance services: reserve points, first-expiring first.")
    async def hold_points(self, info: Info, input: HoldInput) -> Hold:
        principal = info.context.principal
        access.require_service(principal)
        answer = await service.hold_points(
            info.context.db, member_id=parse_id(input.member_id, "memberId"), points=input.points, ttl_seconds=input.ttl_seconds,
            reference=input.reference, idempotency_key=input.idempotency_key, caller=access.actor(principal),
        )
        return Hold.of(answer)

    @strawberry.mutation(description="Alliance services: capture a hold (fully or partly) and book settlement.")
    async def capture_hold(self, info: Info, input: CaptureInput) -> CaptureResult:
        principal = info.context.principal
        access.require_service(principal)
        s = input.settlement
        answer = await service.capture_hold(
            info.context.db, hold_id=parse_id(input.hold_id, "holdId"), points=input.points,
            beneficiary_partner_id=parse_id(s.beneficiary_partner_id, "beneficiaryPartnerId"), value_minor=s.value_minor,
            currency=s.currency, idempotency_key=input.idempotency_key, caller=access.actor(principal),
        )
        return CaptureResult(
            hold=Hold.of(answer.hold), transaction_id=strawberry.ID(str(answer.transaction_id)),
            settlements=[SettlementEntry.of(line) for line in answer.settlements],
        )

    @strawberry.mutation(description="Alliance services: release a hold.")
    async def release_hold(self, info: Info, hold_id: strawberry.ID, idempotency_key: str) -> ReleaseResult:
        principal = info.context.principal
        access.require_service(principal)
        answer = await service.release_hold(
            info.context.db, hold_id=parse_id(hold_id, "holdId"), idempotency_key=idempotency_key, caller=access.actor(principal)
        )
        return ReleaseResult(hold=Hold.of(answer.hold), transaction_id=strawberry.ID(str(answer.transaction_id)))

    @strawberry.mutation(description="Alliance services: return captured points to their lots (or grace lots if expired).")
    async def refund_capture(self, info: Info, input: RefundInput) -> RefundResult:
        principal = info.context.principal
        access.require_service(principal)
        answer = await service.refund_capture(
            info.context.db, hold_id=parse_id(input.hold_id, "holdId"), points=input.points, reason=input.reason,
            idempotency_key=input.idempotency_key, caller=access.actor(principal),
        )
        return RefundResult(
            hold=Hold.of(answer.hold), transaction_id=strawberry.ID(str(answer.transaction_id)), points_refunded=answer.points_refunded,
            to_original_lots=answer.to_original_lots, to_grace_lots=answer.to_grace_lots,
            grace_lot_expires_at=answer.grace_lot_expires_at, settlements=[SettlementEntry.of(line) for line in answer.settlements],
        )

    @strawberry.mutation(description="Operators: credit or debit a member's points with a reason (audited).")
    async def adjust_points(self, info: Info, input: AdjustInput) -> AdjustResult:
        principal = info.context.principal
        access.require_operator(principal)
        answer = await service.adjust_points(
            info.context.db, member_id=parse_id(input.member_id, "memberId"), points=input.points, reason=input.reason,
            idempotency_key=input.idempotency_key, caller=access.actor(principal),
            issuer_partner_id=parse_id(input.issuer_partner_id, "issuerPartnerId") if input.issuer_partner_id else None,
        )
        return AdjustResult(
            member=Member(id=strawberry.ID(str(answer.member_id))), points=answer.points,
            transaction_id=strawberry.ID(str(answer.transaction_id)), lot_id=strawberry.ID(str(answer.lot_id)) if answer.lot_id else None,
        )

    @strawberry.mutation(description="Operators: register or change a partner's points programme.")
    async def set_points_program(self, info: Info, input: PointsProgramInput) -> PointsProgram:
        access.require_operator(info.context.principal)
        program = await partners.set_partner(
            info.context.db, get_points_settings(), partner_id=parse_id(input.partner_id, "partnerId"), currency=input.currency,
            name=input.name, earning_enabled=input.earning_enabled, earn_points=input.earn_points, earn_per_minor=input.earn_per_minor,
            return_window_days=input.return_window_days, expiry_months=input.expiry_months, cost_per_point_minor=input.cost_per_point_minor,
        )
        return PointsProgram.of(program)

    @strawberry.mutation(description="Operators: the tier and birthday multipliers (basis points, 10000 = 1x).")
    async def set_earning_policy(
        self, info: Info, tier_multipliers: list[TierMultiplierInput], birthday_multiplier_bps: int
    ) -> EarningPolicyView:
        principal = info.context.principal
        access.require_operator(principal)
        policy = await earning.set_policy(
            info.context.db, tier_multipliers={t.tier: t.multiplier_bps for t in tier_multipliers},
            birthday_multiplier=birthday_multiplier_bps, actor=access.actor(principal),
        )
        return EarningPolicyView.of(policy)

    @strawberry.mutation(description="Operators: a time-boxed earning campaign.")
    async def create_points_campaign(self, info: Info, input: CampaignInput) -> CampaignView:
        principal = info.context.principal
        access.require_operator(principal)
        campaign = await earning.create_campaign(
            info.context.db, name=input.name, multiplier_bps=input.multiplier_bps, starts_at=input.starts_at, ends_at=input.ends_at,
            partner_id=parse_id(input.partner_id, "partnerId") if input.partner_id else None, category=input.category,
            actor=access.actor(principal),
        )
        return CampaignView.of(campaign)

    @strawberry.mutation(description="Operators: end a campaign now; null if it had not started (it is removed).")
    async def end_points_campaign(self, info: Info, id: strawberry.ID) -> CampaignView | None:
        access.require_operator(info.context.principal)
        ended = await earning.end_campaign(info.context.db, parse_id(id))
        return CampaignView.of(ended) if ended else None

    @strawberry.mutation(description="Services and operators: what points keeps about a member (the birthday month).")
    async def set_points_profile(self, info: Info, member_id: strawberry.ID, birthday_month: int | None) -> MemberPoints:
        access.require_service_or_operator(info.context.principal)
        member = parse_id(member_id, "memberId")
        await service.set_points_profile(info.context.db, member_id=member, birthday_month=birthday_month)
        (balances,) = await reads.balances_of(info.context.db, [member])
        return MemberPoints.of(balances)

    @strawberry.mutation(description="Operators: run a scheduled job now (idempotent: a second run changes nothing).")
    async def run_points_job(self, info: Info, job: PointsJob) -> JobResult:  # type: ignore[valid-type]
        access.require_operator(info.context.principal)
        result = await jobs.run_job(info.context.db, jobs.Job(job.value))
        return JobResult(job=result.job, members=result.members, lots=result.lots, holds=result.holds, points=result.points, events=result.events)


schema = build_schema(
    query=Query, mutation=Mutation, types=[Member, Partner], config=StrawberryConfig(scalar_map=SCALARS)
)


