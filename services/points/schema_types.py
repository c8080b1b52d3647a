"""Strawberry types of the points subgraph and their conversion from the service layer's answers.

Entity fields (`Member.points`, `Partner.points`, posting lot links) load through per-request
DataLoaders, so a page of references costs one query per kind, not one per row.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import NewType

import strawberry
from graphql import IntValueNode
from sqlalchemy import select

from services.points import access, reads
from services.points.answers import HoldView, PurchaseAnswer, SettlementLine
from services.points.holds import HoldRow
from services.points.lots import LotRow
from services.points.models import lots_t
from services.points.partners import PartnerProgram, load_partners
from shared.errors import InvalidInput
from shared.federation import Info
from shared.graphql_pagination import Connection
from shared.ids import parse_id
from shared.pagination import PageRequest
from shared.timeutil import utcnow

MAX_LONG = 2**53 - 1  # exact in JSON numbers everywhere (JavaScript included)


def _parse_long(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) > MAX_LONG:
        raise ValueError("a Long is a whole number within ±2^53-1")
    return value


def _parse_long_literal(node: object, _variables: object = None) -> int:
    if not isinstance(node, IntValueNode):
        raise ValueError("a Long is a whole number")
    return _parse_long(int(node.value))


Long = NewType("Long", int)

# Custom scalars, for the schema's `StrawberryConfig.scalar_map`.
SCALARS = {
    Long: strawberry.scalar(
        name="Long",
        serialize=int,
        parse_value=_parse_long,
        parse_literal=_parse_long_literal,
        description="A whole number up to 2^53-1: points and money in minor units (Int stops at 2^31-1).",
    )
}


def _id(value: uuid.UUID | None) -> strawberry.ID | None:
    return strawberry.ID(str(value)) if value is not None else None


# --- loaders -----------------------------------------------------------------------------------


def balances_loader(info: Info):  # noqa: ANN201
    db = info.context.db
    return info.context.loader("points.balances", lambda ids: reads.balances_of(db, ids))


def figures_loader(info: Info):  # noqa: ANN201
    db = info.context.db
    return info.context.loader("points.partnerFigures", lambda ids: reads.partner_figures(db, ids))


def programs_loader(info: Info):  # noqa: ANN201
    db = info.context.db

    async def load(ids: Sequence[uuid.UUID]) -> list[PartnerProgram | None]:
        async with db.engine.connect() as connection:
            found = await load_partners(connection, ids)
        return [found.get(i) for i in ids]

    return info.context.loader("points.programs", load)


def lots_loader(info: Info):  # noqa: ANN201
    db = info.context.db

    async def load(ids: Sequence[uuid.UUID]) -> list[LotRow | None]:
        async with db.engine.connect() as connection:
            rows = await connection.execute(select(*(lots_t.c[n] for n in LotRow.COLUMNS)).where(lots_t.c.id.in_(list(set(ids)))))
            found = {row.id: LotRow(**row._mapping) for row in rows}
        return [found.get(i) for i in ids]

    return info.context.loader("points.lots", load)


# --- money and small values --------------------------------------------------------------------


@strawberry.type(description="An amount of money: minor units (e.g. fen, cents) and an ISO 4217 currency code.")
class Money:
    amount_minor: Long
    currency: str


@strawberry.type(description="Points that will expire on one (UTC) date.")
class ExpiringPoints:
    date: date
    points: Long


@strawberry.enum(description="Where a lot stands.")
class LotStatus(enum.Enum):
    PENDING = "PENDING"  # inside the partner's return window
    AVAILABLE = "AVAILABLE"
    SPENT = "SPENT"  # nothing left in it (reserved, redeemed, clawed back or debited)
    EXPIRED = "EXPIRED"


@strawberry.enum(description="ACTIVE until captured, released, or expired (released by the service after its time limit).")
class HoldStatus(enum.Enum):
    ACTIVE = "ACTIVE"
    CAPTURED = "CAPTURED"
    RELEASED = "RELEASED"
    EXPIRED = "EXPIRED"


# --- entities ----------------------------------------------------------------------------------


@strawberry.federation.type(keys=["id"], description="An alliance partner, as the points programme sees it.")
class Partner:
    id: strawberry.ID

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> Partner:
        """References resolve without a query; each field below loads in one batch per request."""
        return cls(id=id)

    @strawberry.field(description="The partner's earning programme; null if it is not registered with points.")
    async def points_program(self, info: Info) -> PointsProgram | None:
        partner_id = parse_id(self.id)
        access.require_partner_reader(info.context.principal, partner_id)
        program = await programs_loader(info).load(partner_id)
        return PointsProgram.of(program) if program else None

    @strawberry.field(description="Points issued, outstanding liability, expiry forecast and breakage (the partner and operators).")
    async def points(self, info: Info) -> PartnerPoints:
        partner_id = parse_id(self.id)
        access.require_partner_reader(info.context.principal, partner_id)
        return PartnerPoints.of(await figures_loader(info).load(partner_id))


@strawberry.federation.type(keys=["id"], description="An alliance member; the points subgraph adds their points.")
class Member:
    id: strawberry.ID

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> Member:
        return cls(id=id)

    @strawberry.field(description="The member's points: only for the member themself, staff and alliance services.")
    async def points(self, info: Info) -> MemberPoints:
        member_id = parse_id(self.id)
        access.require_member_reader(info.context.principal, member_id)
        return MemberPoints.of(await balances_loader(info).load(member_id))


def partner_ref(partner_id: uuid.UUID | None) -> Partner | None:
    return Partner(id=strawberry.ID(str(partner_id))) if partner_id is not None else None


# --- programme and partner figures -------------------------------------------------------------


@strawberry.type(description="What a partner's points earn and cost.")
class PointsProgram:
    partner_id: strawberry.ID
    name: str | None
    currency: str
    earning_enabled: bool
    earn_points: int = strawberry.field(description="Points earned per earnPerMinor minor units spent (before multipliers).")
    earn_per_minor: int
    return_window_days: int = strawberry.field(description="Points stay pending this long after the purchase.")
    expiry_months: int
    cost_per_point: Money = strawberry.field(description="What the partner pays per point of its own redeemed.")

    @classmethod
    def of(cls, p: PartnerProgram) -> PointsProgram:
        return cls(
            partner_id=strawberry.ID(str(p.id)), name=p.name, currency=p.currency, earning_enabled=p.earning_enabled,
            earn_points=p.earn_points, earn_per_minor=p.earn_per_minor, return_window_days=p.return_window_days,
            expiry_months=p.expiry_months, cost_per_point=Money(amount_minor=p.cost_per_point_minor, currency=p.currency),
        )


@strawberry.type(description="Points of the partner's lots expiring in one month (UTC).")
class ExpiryForecastMonth:
    month: str = strawberry.field(description="YYYY-MM")
    points: Long
    value: list[Money]


@strawberry.type(description="A partner's points figures.")
class PartnerPoints:
    points_issued: Long = strawberry.field(description="Points the partner has issued to members, in all.")
    outstanding_points: Long = strawberry.field(description="Still in members' hands (pending, available or held).")
    outstanding_liability: list[Money] = strawberry.field(description="outstandingPoints × each lot's cost per point.")
    expiry_forecast: list[ExpiryForecastMonth]
    breakage_points: Long = strawberry.field(description="The partner's points that expired, to date.")
    breakage_value: list[Money]
    points_redeemed_at_partner: Long = strawberry.field(description="Points of any issuer redeemed at this partner.")

    @classmethod
    def of(cls, f: reads.PartnerFigures) -> PartnerPoints:
        def money(items: list[reads.MoneyAmount]) -> list[Money]:
            return [Money(amount_minor=m.amount_minor, currency=m.currency) for m in items]

        return cls(
            points_issued=f.points_issued,
            outstanding_points=f.outstanding_points,
            outstanding_liability=money(f.outstanding_value),
            expiry_forecast=[ExpiryForecastMonth(month=m.month, points=m.points, value=money(m.value)) for m in f.expiry_forecast],
            breakage_points=f.breakage_points,
            breakage_value=money(f.breakage_value),
            points_redeemed_at_partner=f.redeemed_points,
        )


# --- member points, lots, transactions ----------------------------------------------------------


@strawberry.type(description="A lot: points credited together, with their provenance.")
class PointsLot:
    id: strawberry.ID
    issuer: Partner | None = strawberry.field(description="The issuing partner; null for alliance-funded points.")
    cost_per_point: Money | None
    amount: Long
    remaining: Long
    status: LotStatus
    source: str = strawberry.field(description="PURCHASE, ADJUSTMENT or GRACE (refunded points whose lot had expired).")
    earned_at: datetime
    vests_at: datetime
    expires_at: datetime
    purchase_id: strawberry.ID | None
    origin_lot_id: strawberry.ID | None

    @classmethod
    def of(cls, lot: LotRow) -> PointsLot:
        if lot.expired_at is not None:
            status = LotStatus.EXPIRED
        elif lot.vested_at is None:
            status = LotStatus.PENDING
        else:
            status = LotStatus.AVAILABLE if lot.remaining else LotStatus.SPENT
        cost = Money(amount_minor=lot.cost_per_point_minor, currency=lot.currency) if lot.currency else None
        return cls(
            id=strawberry.ID(str(lot.id)), issuer=partner_ref(lot.issuer_partner_id), cost_per_point=cost, amount=lot.amount,
            remaining=lot.remaining, status=status, source=lot.source, earned_at=lot.earned_at, vests_at=lot.vests_at,
            expires_at=lot.expires_at, purchase_id=_id(lot.purchase_id), origin_lot_id=_id(lot.origin_lot_id),
        )


@strawberry.type(description="One leg of a transaction: points to (positive) or from (negative) an account.")
class Posting:
    account: str
    amount: Long
    lot_id: strawberry.ID | None

    @strawberry.field(description="The lot whose points this leg moved.")
    async def lot(self, info: Info) -> PointsLot | None:
        if self.lot_id is None:
            return None
        lot = await lots_loader(info).load(parse_id(self.lot_id))
        return PointsLot.of(lot) if lot else None


@strawberry.type(description="A ledger transaction: balanced postings, hash-chained to the member's previous one.")
class PointsTransaction:
    id: strawberry.ID
    sequence: int
    kind: str
    actor: str
    reference: str | None
    created_at: datetime
    prev_hash: str
    hash: str
    postings: list[Posting]

    @classmethod
    def of(cls, t: reads.TransactionView) -> PointsTransaction:
        return cls(
            id=strawberry.ID(str(t.id)), sequence=t.sequence, kind=t.kind, actor=t.actor, reference=t.reference,
            created_at=t.created_at, prev_hash=t.prev_hash, hash=t.hash,
            postings=[Posting(account=p.account, amount=p.amount, lot_id=_id(p.lot_id)) for p in t.postings],
        )


@strawberry.type(description="A member's points.")
class MemberPoints:
    member_id: strawberry.ID
    available: Long
    pending: Long = strawberry.field(description="Earned, inside the partner's return window.")
    held: Long = strawberry.field(description="Reserved by holds for redemptions in progress.")
    debt: Long = strawberry.field(description="Owed after returns; repaid by the next points before they become available.")
    lifetime_earned: Long
    lifetime_spent: Long
    lifetime_expired: Long
    tier: str | None = strawberry.field(description="The tier points applies (from members' TierChanged events).")
    birthday_month: int | None

    @classmethod
    def of(cls, b: reads.Balances) -> MemberPoints:
        return cls(
            member_id=strawberry.ID(str(b.member_id)), available=b.available, pending=b.pending, held=b.held, debt=b.debt,
            lifetime_earned=b.lifetime_earned, lifetime_spent=b.lifetime_spent, lifetime_expired=b.lifetime_expired,
            tier=b.tier, birthday_month=b.birthday_month,
        )

    @strawberry.field(description="Points expiring within `withinDays` (1–366), grouped by date.")
    async def expiring_soon(self, info: Info, within_days: int = 30) -> list[ExpiringPoints]:
        if not 1 <= within_days <= 366:
            raise InvalidInput("withinDays is 1 to 366", argument="withinDays")
        found = await reads.expiring_soon(info.context.db, parse_id(self.member_id), within=timedelta(days=within_days), now=utcnow())
        return [ExpiringPoints(date=e.on, points=e.points) for e in found]

    @strawberry.field(description="The member's lots, newest first; closed (spent, expired) ones only with includeClosed.")
    async def lots(
        self, info: Info, first: int | None = None, after: str | None = None, include_closed: bool = False
    ) -> Connection[PointsLot]:
        request = PageRequest(first, after, cursor_types=reads.LOT_CURSOR)
        page = await reads.lots_page(info.context.db, parse_id(self.member_id), request, include_closed=include_closed)
        return Connection[PointsLot].from_page(page, PointsLot.of)

    @strawberry.field(description="The member's ledger transactions, newest first, with postings and lot links.")
    async def transactions(self, info: Info, first: int | None = None, after: str | None = None) -> Connection[PointsTransaction]:
        request = PageRequest(first, after, cursor_types=reads.TRANSACTION_CURSOR)
        page = await reads.transactions_page(info.context.db, parse_id(self.member_id), request)
        return Connection[PointsTransaction].from_page(page, PointsTransaction.of)


# --- holds and answers -------------------------------------------------------------------------


@strawberry.type(description="Points reserved for a redemption.")
class Hold:
    id: strawberry.ID
    member: Member
    amount: Long
    captured: Long
    released: Long
    refunded: Long
    status: HoldStatus
    reference: str
    expires_at: datetime
    created_at: datetime
    beneficiary: Partner | None
    settlement_value: Money | None

    @classmethod
    def of(cls, h: HoldView | HoldRow) -> Hold:
        value = (
            Money(amount_minor=h.settlement_value_minor, currency=h.settlement_currency)
            if h.settlement_value_minor is not None and h.settlement_currency
            else None
        )
        return cls(
            id=strawberry.ID(str(h.id)), member=Member(id=strawberry.ID(str(h.member_id))), amount=h.amount, captured=h.captured,
            released=h.released, refunded=h.refunded, status=HoldStatus(h.status), reference=h.reference,
            expires_at=h.expires_at, created_at=h.created_at, beneficiary=partner_ref(h.beneficiary_partner_id), settlement_value=value,
        )


@strawberry.type(description="What one consumed lot's issuer owes the beneficiary (negative: a refund's reversal).")
class SettlementEntry:
    lot_id: strawberry.ID
    issuer: Partner | None
    beneficiary: Partner
    points: Long
    value: Money

    @classmethod
    def of(cls, line: SettlementLine) -> SettlementEntry:
        return cls(
            lot_id=strawberry.ID(str(line.lot_id)), issuer=partner_ref(line.issuer_partner_id),
            beneficiary=partner_ref(line.beneficiary_partner_id),  # type: ignore[arg-type]
            points=line.points, value=Money(amount_minor=line.amount_minor, currency=line.currency),
        )


@strawberry.type
class CaptureResult:
    hold: Hold
    transaction_id: strawberry.ID
    settlements: list[SettlementEntry]


@strawberry.type
class ReleaseResult:
    hold: Hold
    transaction_id: strawberry.ID


@strawberry.type(description="A refund of captured points.")
class RefundResult:
    hold: Hold
    transaction_id: strawberry.ID
    points_refunded: Long
    to_original_lots: Long = strawberry.field(description="Points returned into the lots they came from.")
    to_grace_lots: Long = strawberry.field(description="Points whose lot had expired, returned in a new lot with a short grace expiry.")
    grace_lot_expires_at: datetime | None
    settlements: list[SettlementEntry]


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
            external_id=a.external_id, member=Member(id=strawberry.ID(str(a.member_id))), points=a.points, pending=a.pending,
            vests_at=a.vests_at, expires_at=a.expires_at, lot_id=_id(a.lot_id), transaction_id=_id(a.transaction_id),
        )


@strawberry.type(description="One error of a bulk item, as GraphQL errors carry it.")
class ItemError:
    code: str
    message: str
    field: str | None


@strawberry.type(description="The outcome of one purchase in a bulk call: a result or an error, never both.")
class PurchaseItemResult:
    index: int
    result: PurchaseResult | None
    error: ItemError | None


@strawberry.type
class ReturnResult:
    return_id: strawberry.ID
    purchase_id: strawberry.ID
    amount_minor: Long
    points_clawed_back: Long
    from_purchase_lot: Long
    from_other_lots: Long
    as_debt: Long = strawberry.field(description="What the member did not have: owed, repaid by their next points.")


@strawberry.type
class AdjustResult:
    member: Member
    points: Long
    transaction_id: strawberry.ID
    lot_id: strawberry.ID | None


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
    def of(cls, p: reads.PurchaseView) -> Purchase:
        return cls(
            id=strawberry.ID(str(p.id)), partner=Partner(id=strawberry.ID(str(p.partner_id))), external_id=p.external_id,
            member=Member(id=strawberry.ID(str(p.member_id))), amount=Money(amount_minor=p.amount_minor, currency=p.currency),
            occurred_at=p.occurred_at, category=p.category, points_earned=p.points_earned,
            returned=Money(amount_minor=p.returned_minor, currency=p.currency), points_clawed_back=p.points_clawed_back,
            created_at=p.created_at,
        )



