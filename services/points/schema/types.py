"""Strawberry types of the points subgraph made from the service layer's answers: entities,
member points with their lots and transactions, partner figures, holds.

Entity fields (`Member.points`, `Partner.points`, posting lot links) load through per-request
DataLoaders, so a page of references costs one query per kind, not one per row.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

import strawberry

from strawberry.dataloader import DataLoader

from services.points.ledger.answers import Balances
from services.points.ledger.chain import Transaction
from services.points.partners import service as partners
from services.points.partners.answers import PartnerProgram
from services.points.reporting import service as reporting
from services.points.reporting.answers import LotAnswer, MoneyAmount, PartnerFigures
from shared.federation.scalars import Long
from services.points.spending.answers import HoldAnswer, SettlementLine
from shared.federation import Info
from shared.graphql_pagination import Connection
from shared.ids import parse_id


def _id(value: uuid.UUID | None) -> strawberry.ID | None:
    return strawberry.ID(str(value)) if value is not None else None


# --- loaders: per request, over the service layer's batch reads (each key answers its value or
# the error that keeps this caller from it) ------------------------------------------------------


def balances_loader(info: Info) -> DataLoader[uuid.UUID, Balances]:
    db, principal = info.context.db, info.context.principal
    return info.context.loader("points.balances", lambda ids: reporting.balances_of(db, principal, ids))


def figures_loader(info: Info) -> DataLoader[uuid.UUID, PartnerFigures]:
    db, principal = info.context.db, info.context.principal
    return info.context.loader("points.partnerFigures", lambda ids: reporting.partner_figures(db, principal, ids))


def programmes_loader(info: Info) -> DataLoader[uuid.UUID, PartnerProgram | None]:
    db, principal = info.context.db, info.context.principal
    return info.context.loader("points.programs", lambda ids: partners.programmes_of(db, principal, ids))


def lots_loader(info: Info) -> DataLoader[uuid.UUID, LotAnswer | None]:
    db, principal = info.context.db, info.context.principal
    return info.context.loader("points.lots", lambda ids: reporting.lots_of(db, principal, ids))


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
        program = await programmes_loader(info).load(parse_id(self.id))
        return PointsProgram.of(program) if program else None

    @strawberry.field(description="Points issued, outstanding liability, expiry forecast and breakage (the partner and operators).")
    async def points(self, info: Info) -> PartnerPoints:
        return PartnerPoints.of(await figures_loader(info).load(parse_id(self.id)))


@strawberry.federation.type(keys=["id"], description="An alliance member; the points subgraph adds their points.")
class Member:
    id: strawberry.ID

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> Member:
        return cls(id=id)

    @strawberry.field(description="The member's points: only for the member themself, staff and alliance services.")
    async def points(self, info: Info) -> MemberPoints:
        return MemberPoints.of(await balances_loader(info).load(parse_id(self.id)))


def partner_ref(partner_id: uuid.UUID | None) -> Partner | None:
    return Partner(id=strawberry.ID(str(partner_id))) if partner_id is not None else None


def member_ref(member_id: uuid.UUID) -> Member:
    return Member(id=strawberry.ID(str(member_id)))


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
    max_purchase_minor: Long | None = strawberry.field(description="Its own purchase amount cap; null: the alliance default.")
    max_points_per_member_day: Long | None = strawberry.field(description="Its own daily points cap per member; null: the alliance default.")
    max_purchase_age_days: int | None = strawberry.field(description="Its own oldest accepted purchase; null: the alliance default.")

    @classmethod
    def of(cls, p: PartnerProgram) -> PointsProgram:
        return cls(
            partner_id=strawberry.ID(str(p.id)), name=p.name, currency=p.currency, earning_enabled=p.earning_enabled,
            earn_points=p.earn_points, earn_per_minor=p.earn_per_minor, return_window_days=p.return_window_days,
            expiry_months=p.expiry_months, cost_per_point=Money(amount_minor=p.cost_per_point_minor, currency=p.currency),
            max_purchase_minor=p.max_purchase_minor, max_points_per_member_day=p.max_points_per_member_day,
            max_purchase_age_days=p.max_purchase_age_days,
        )


@strawberry.type(description="Points of the partner's lots expiring in one month (UTC).")
class ExpiryForecastMonth:
    month: str = strawberry.field(description="YYYY-MM")
    points: Long
    value: list[Money]


def _money(items: list[MoneyAmount]) -> list[Money]:
    return [Money(amount_minor=m.amount_minor, currency=m.currency) for m in items]


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
    def of(cls, f: PartnerFigures) -> PartnerPoints:
        return cls(
            points_issued=f.points_issued,
            outstanding_points=f.outstanding_points,
            outstanding_liability=_money(f.outstanding_value),
            expiry_forecast=[ExpiryForecastMonth(month=m.month, points=m.points, value=_money(m.value)) for m in f.expiry_forecast],
            breakage_points=f.breakage_points,
            breakage_value=_money(f.breakage_value),
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
    def of(cls, lot: LotAnswer) -> PointsLot:
        cost = Money(amount_minor=lot.cost_per_point_minor, currency=lot.currency) if lot.currency else None
        return cls(
            id=strawberry.ID(str(lot.id)), issuer=partner_ref(lot.issuer_partner_id), cost_per_point=cost, amount=lot.amount,
            remaining=lot.remaining, status=LotStatus(lot.status), source=lot.source, earned_at=lot.earned_at,
            vests_at=lot.vests_at, expires_at=lot.expires_at, purchase_id=_id(lot.purchase_id), origin_lot_id=_id(lot.origin_lot_id),
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
    def of(cls, t: Transaction) -> PointsTransaction:
        return cls(
            id=strawberry.ID(str(t.id)), sequence=t.sequence, kind=t.kind, actor=t.actor, reference=t.reference,
            created_at=t.created_at, prev_hash=t.prev_hash, hash=t.hash,
            postings=[Posting(account=leg.account, amount=leg.amount, lot_id=_id(leg.lot_id)) for leg in t.legs],
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
    def of(cls, b: Balances) -> MemberPoints:
        return cls(
            member_id=strawberry.ID(str(b.member_id)), available=b.available, pending=b.pending, held=b.held, debt=b.debt,
            lifetime_earned=b.lifetime_earned, lifetime_spent=b.lifetime_spent, lifetime_expired=b.lifetime_expired,
            tier=b.tier, birthday_month=b.birthday_month,
        )

    @strawberry.field(description="Points expiring within `withinDays` (1–366), grouped by date.")
    async def expiring_soon(self, info: Info, within_days: int = 30) -> list[ExpiringPoints]:
        found = await reporting.expiring_soon(info.context.db, info.context.principal, parse_id(self.member_id), within_days=within_days)
        return [ExpiringPoints(date=e.on, points=e.points) for e in found]

    @strawberry.field(description="The member's lots, newest first; closed (spent, expired) ones only with includeClosed.")
    async def lots(
        self, info: Info, first: int | None = None, after: str | None = None, include_closed: bool = False
    ) -> Connection[PointsLot]:
        page = await reporting.lots_page(
            info.context.db, info.context.principal, parse_id(self.member_id), first=first, after=after, include_closed=include_closed
        )
        return Connection[PointsLot].from_page(page, PointsLot.of)

    @strawberry.field(description="The member's ledger transactions, newest first, with postings and lot links.")
    async def transactions(self, info: Info, first: int | None = None, after: str | None = None) -> Connection[PointsTransaction]:
        page = await reporting.transactions_page(info.context.db, info.context.principal, parse_id(self.member_id), first=first, after=after)
        return Connection[PointsTransaction].from_page(page, PointsTransaction.of)


# --- holds ---------------------------------------------------------------------------------------


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
    def of(cls, h: HoldAnswer) -> Hold:
        value = (
            Money(amount_minor=h.settlement_value_minor, currency=h.settlement_currency)
            if h.settlement_value_minor is not None and h.settlement_currency
            else None
        )
        return cls(
            id=strawberry.ID(str(h.id)), member=member_ref(h.member_id), amount=h.amount, captured=h.captured,
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
