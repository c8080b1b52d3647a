"""Strawberry types of what mutations and operator queries answer, made from the service layer's
answers: purchases and returns, captures and refunds, statements, checks, earning rules."""

from __future__ import annotations

from datetime import datetime

import strawberry

from services.points.audit.answers import ChainCheck, LedgerCheck
from services.points.earning.answers import AdjustAnswer, PurchaseAnswer, ReturnAnswer
from services.points.earning.rules import CampaignRule, EarningPolicy
from services.points.ledger.chain import BrokenLink as BrokenLinkAnswer
from shared.federation.scalars import Long
from services.points.schema.types import Hold, Member, Money, Partner, SettlementEntry, member_ref, partner_ref
from services.points.spending.answers import CaptureAnswer, RefundAnswer, ReleaseAnswer, StatementLine as StatementLineAnswer
from shared.errors import DomainError

def _id(value: object) -> strawberry.ID | None:
    return strawberry.ID(str(value)) if value is not None else None


@strawberry.type
class CaptureResult:
    hold: Hold
    transaction_id: strawberry.ID
    settlements: list[SettlementEntry]

    @classmethod
    def of(cls, a: CaptureAnswer) -> CaptureResult:
        return cls(hold=Hold.of(a.hold), transaction_id=strawberry.ID(str(a.transaction_id)), settlements=[SettlementEntry.of(s) for s in a.settlements])


@strawberry.type
class ReleaseResult:
    hold: Hold
    transaction_id: strawberry.ID

    @classmethod
    def of(cls, a: ReleaseAnswer) -> ReleaseResult:
        return cls(hold=Hold.of(a.hold), transaction_id=strawberry.ID(str(a.transaction_id)))


@strawberry.type(description="A refund of captured points.")
class RefundResult:
    hold: Hold
    transaction_id: strawberry.ID
    points_refunded: Long
    to_original_lots: Long = strawberry.field(description="Points returned into the lots they came from.")
    to_grace_lots: Long = strawberry.field(description="Points whose lot had expired, returned in a new lot with a short grace expiry.")
    grace_lot_expires_at: datetime | None
    settlements: list[SettlementEntry]

    @classmethod
    def of(cls, a: RefundAnswer) -> RefundResult:
        return cls(
            hold=Hold.of(a.hold), transaction_id=strawberry.ID(str(a.transaction_id)), points_refunded=a.points_refunded,
            to_original_lots=a.to_original_lots, to_grace_lots=a.to_grace_lots, grace_lot_expires_at=a.grace_lot_expires_at,
            settlements=[SettlementEntry.of(s) for s in a.settlements],
        )


@strawberry.type(description="A recorded purchase and the points it earned.")
class PurchaseResult:
    purchase_id: strawberry.ID
    partner: Partner
    external_id: str
    member: Member
    points: Long
    pending: bool = strawberry.field(description="True while the partner's return window runs.")
    vests_at: datetime | None
    expires_at: datetime | None
    lot_id: strawberry.ID | None
    transaction_id: strawberry.ID | None

    @classmethod
    def of(cls, a: PurchaseAnswer) -> PurchaseResult:
        return cls(
            purchase_id=strawberry.ID(str(a.purchase_id)), partner=Partner(id=strawberry.ID(str(a.partner_id))),
            external_id=a.external_id, member=member_ref(a.member_id), points=a.points, pending=a.pending,
            vests_at=a.vests_at, expires_at=a.expires_at, lot_id=_id(a.lot_id), transaction_id=_id(a.transaction_id),
        )


@strawberry.type(description="One error of a bulk item, as GraphQL errors carry it.")
class ItemError:
    code: str
    message: str
    field: str | None

    @classmethod
    def of(cls, error: DomainError) -> ItemError:
        field = error.extensions.get("field")
        return cls(code=error.code, message=error.message, field=field if isinstance(field, str) else None)


@strawberry.type(description="The outcome of one purchase in a bulk call: a result or an error, never both.")
class PurchaseItemResult:
    index: int
    result: PurchaseResult | None
    error: ItemError | None

    @classmethod
    def of(cls, index: int, outcome: PurchaseAnswer | DomainError) -> PurchaseItemResult:
        if isinstance(outcome, DomainError):
            return cls(index=index, result=None, error=ItemError.of(outcome))
        return cls(index=index, result=PurchaseResult.of(outcome), error=None)


@strawberry.type
class ReturnResult:
    return_id: strawberry.ID
    purchase_id: strawberry.ID
    amount_minor: Long
    points_clawed_back: Long
    from_purchase_lot: Long
    from_other_lots: Long
    as_debt: Long = strawberry.field(description="What the member did not have: owed, repaid by their next points.")

    @classmethod
    def of(cls, a: ReturnAnswer) -> ReturnResult:
        return cls(
            return_id=strawberry.ID(str(a.return_id)), purchase_id=strawberry.ID(str(a.purchase_id)),
            amount_minor=a.amount_minor, points_clawed_back=a.points_clawed_back,
            from_purchase_lot=a.from_purchase_lot, from_other_lots=a.from_other_lots, as_debt=a.as_debt,
        )


@strawberry.type
class AdjustResult:
    member: Member
    points: Long
    transaction_id: strawberry.ID
    lot_id: strawberry.ID | None

    @classmethod
    def of(cls, a: AdjustAnswer) -> AdjustResult:
        return cls(member=member_ref(a.member_id), points=a.points, transaction_id=strawberry.ID(str(a.transaction_id)), lot_id=_id(a.lot_id))


@strawberry.type(description="A purchase as the partner, the member and operators see it.")
class Purchase:
    id: strawberry.ID
    partner: Partner
    external_id: str
    member: Member
    amount: Money
    occurred_at: datetime
    category: str | None
    points_earned: Long
    returned: Money
    points_clawed_back: Long
    created_at: datetime

    @classmethod
    def of(cls, p: PurchaseAnswer) -> Purchase:
        return cls(
            id=strawberry.ID(str(p.purchase_id)), partner=Partner(id=strawberry.ID(str(p.partner_id))), external_id=p.external_id,
            member=member_ref(p.member_id), amount=Money(amount_minor=p.amount_minor, currency=p.currency),
            occurred_at=p.occurred_at, category=p.category, points_earned=p.points,
            returned=Money(amount_minor=p.returned_minor, currency=p.currency), points_clawed_back=p.points_clawed_back,
            created_at=p.created_at,
        )


@strawberry.type(description="One counterparty's lines in a partner's settlement statement.")
class StatementLine:
    counterparty: Partner | None = strawberry.field(description="Null: the alliance (alliance-funded points).")
    currency: str
    points_payable: Long = strawberry.field(description="The partner's points redeemed at the counterparty.")
    payable: Money
    points_receivable: Long = strawberry.field(description="The counterparty's points redeemed at the partner.")
    receivable: Money
    net: Money = strawberry.field(description="receivable - payable: positive, the counterparty pays the partner.")

    @classmethod
    def of(cls, line: StatementLineAnswer) -> StatementLine:
        return cls(
            counterparty=partner_ref(line.counterparty_id), currency=line.currency,
            points_payable=line.points_redeemed_by_counterparty, payable=Money(amount_minor=line.payable_minor, currency=line.currency),
            points_receivable=line.points_redeemed_at_partner, receivable=Money(amount_minor=line.receivable_minor, currency=line.currency),
            net=Money(amount_minor=line.net_minor, currency=line.currency),
        )


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

    @classmethod
    def of(cls, r: LedgerCheck) -> LedgerCheckResult:
        return cls(ok=r.ok, transactions=r.transactions, members=r.members, problems=r.problems)


@strawberry.type(description="Where a member's hash chain stops holding.")
class BrokenLink:
    member: Member
    sequence: int
    transaction_id: strawberry.ID | None
    reason: str

    @classmethod
    def of(cls, link: BrokenLinkAnswer) -> BrokenLink:
        return cls(member=member_ref(link.member_id), sequence=link.sequence, transaction_id=_id(link.transaction_id), reason=link.reason)


@strawberry.type
class ChainVerification:
    ok: bool
    chains: int
    transactions: int
    first_broken_link: BrokenLink | None = strawberry.field(description="The earliest break (where tampering began).")
    broken_links: list[BrokenLink] = strawberry.field(description="The first broken link of each broken chain.")

    @classmethod
    def of(cls, r: ChainCheck) -> ChainVerification:
        first = r.first_broken_link
        return cls(
            ok=r.ok, chains=r.chains, transactions=r.transactions,
            first_broken_link=BrokenLink.of(first) if first else None, broken_links=[BrokenLink.of(b) for b in r.broken],
        )


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
    def of(cls, c: CampaignRule) -> CampaignView:
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
    def of(cls, p: EarningPolicy) -> EarningPolicyView:
        return cls(
            tier_multipliers=[TierMultiplier(tier=t, multiplier_bps=b) for t, b in sorted(p.tier_multipliers.items())],
            birthday_multiplier_bps=p.birthday_multiplier,
        )
