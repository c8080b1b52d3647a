"""The redemptions subgraph's types: `Redemption @key(id)` (owned here), and the `Member`, `Benefit`
and `Partner` entities of the other subgraphs, referenced (`Member` also gains `redemptions`)."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

import orjson
import strawberry
from strawberry.federation.schema_directives import Key

from shared.federation import Info
from shared.federation.scalars import Long
from shared.graphql_pagination import Connection
from shared.ids import parse_id
from shared.pagination import PageRequest

from services.redemptions.redeeming import service as redeeming
from services.redemptions.redeeming.answers import RedemptionAnswer, StepAnswer


@strawberry.enum(description="PENDING while the saga runs; then COMPLETED or FAILED; REFUNDED after a refund; "
                             "NEEDS_ATTENTION when operators must decide (a delivery whose outcome stays unknown, say).")
class RedemptionStatus(enum.Enum):
    PENDING = "PENDING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    REFUNDED = "REFUNDED"
    NEEDS_ATTENTION = "NEEDS_ATTENTION"


@strawberry.enum(description="VOUCHER: a code at the partner. VIDEO_MEMBERSHIP: days on a video platform.")
class RedemptionKind(enum.Enum):
    VOUCHER = "VOUCHER"
    VIDEO_MEMBERSHIP = "VIDEO_MEMBERSHIP"


@strawberry.enum(description="The delivered code: ISSUED (usable), USED (written off at the partner), VOIDED (refunded).")
class VoucherState(enum.Enum):
    ISSUED = "ISSUED"
    USED = "USED"
    VOIDED = "VOIDED"


@strawberry.federation.type(keys=[Key(fields="id", resolvable=False)], description="A benefit (owned by the benefits subgraph).")
class Benefit:
    id: strawberry.ID


@strawberry.federation.type(keys=[Key(fields="id", resolvable=False)], description="A partner (owned by the benefits subgraph).")
class Partner:
    id: strawberry.ID


@strawberry.type(description="One thing the saga did or learnt, oldest first.")
class RedemptionStep:
    step: str = strawberry.field(description="ADMIT, HOLD, RESERVE, DELIVER, CAPTURE, COMPLETE, RELEASE, REFUND_VOID, "
                                             "REFUND_POINTS, CODE, RETRY …")
    outcome: str = strawberry.field(description="DONE, REFUSED, RETRY, NEEDS_ATTENTION, REQUESTED, USED …")
    at: datetime
    detail: str = strawberry.field(description="What was learnt, as a JSON object (ids, codes, attempts).")

    @classmethod
    def of(cls, step: StepAnswer) -> RedemptionStep:
        return cls(step=step.step, outcome=step.outcome, at=step.at, detail=orjson.dumps(step.detail).decode())


@strawberry.type(description="A refund asked for or done.")
class RedemptionRefund:
    state: str | None = strawberry.field(description="PENDING while it runs, DONE; null when it was refused.")
    reason: str | None
    refunded_at: datetime | None
    points_to_original_lots: Long | None = strawberry.field(description="Points back in the lots they came from.")
    points_to_grace_lots: Long | None = strawberry.field(description="Points whose lots had expired, back in a grace lot.")
    grace_lot_expires_at: datetime | None
    refused: str | None = strawberry.field(description="Why the last refund was refused (CODE: message), if it was.")


@strawberry.federation.type(keys=["id"], description="A member spending points on a benefit.")
class Redemption:
    id: strawberry.ID
    answer: strawberry.Private[RedemptionAnswer]

    @classmethod
    def of(cls, answer: RedemptionAnswer) -> Redemption:
        return cls(id=strawberry.ID(str(answer.id)), answer=answer)

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> Redemption | None:
        found = await info.context.loader("redemptions", lambda ids: redeeming.redemptions_by_ids(
            info.context.db, info.context.principal, list(ids))).load(parse_id(id))
        return cls.of(found) if found else None

    @strawberry.field(description="The member (null for partners: they see no member data).")
    def member(self) -> Member | None:
        return Member(id=strawberry.ID(str(self.answer.member_id))) if self.answer.member_id else None

    @strawberry.field
    def benefit(self) -> Benefit:
        return Benefit(id=strawberry.ID(str(self.answer.benefit_id)))

    @strawberry.field(description="The benefit's owner, paid the settlement value.")
    def partner(self) -> Partner:
        return Partner(id=strawberry.ID(str(self.answer.partner_id)))

    @strawberry.field(description="The benefit's title when redeemed.")
    def title(self) -> str:
        return self.answer.title

    @strawberry.field
    def kind(self) -> RedemptionKind:
        return RedemptionKind(self.answer.kind)

    @strawberry.field(description="The points spent (the benefit's price when redeemed).")
    def points(self) -> Long:
        return self.answer.points

    @strawberry.field(description="What the benefit's owner is paid (minor units), once reserved.")
    def settlement_minor(self) -> Long | None:
        return self.answer.settlement_minor

    @strawberry.field
    def settlement_currency(self) -> str | None:
        return self.answer.currency

    @strawberry.field
    def status(self) -> RedemptionStatus:
        return RedemptionStatus(self.answer.status)

    @strawberry.field(description="What the saga does next while PENDING (HOLD, RESERVE, DELIVER, CAPTURE, COMPLETE, RELEASE); DONE after.")
    def step(self) -> str:
        return self.answer.step

    @strawberry.field(description="The caller's idempotency key (not for partners).")
    def idempotency_key(self) -> str | None:
        return self.answer.idempotency_key

    @strawberry.field(description="The voucher code: in clear for the member, masked for everyone else.")
    def code(self) -> str | None:
        return self.answer.code or self.answer.code_masked

    @strawberry.field
    def code_state(self) -> VoucherState | None:
        return VoucherState(self.answer.code_state) if self.answer.code_state else None

    @strawberry.field
    def code_valid_until(self) -> datetime | None:
        return self.answer.code_valid_until

    @strawberry.field
    def code_used_at(self) -> datetime | None:
        return self.answer.code_used_at

    @strawberry.field(description="The platform's reference of a recharge.")
    def recharge_reference(self) -> str | None:
        return self.answer.recharge_reference

    @strawberry.field(description="Why it failed, as a stable code: INSUFFICIENT_POINTS, OUT_OF_STOCK, BUDGET_EXHAUSTED, "
                                  "LIMIT_EXCEEDED, TIER_TOO_LOW, NOT_AVAILABLE, NOT_BIRTHDAY_MONTH, PARTNER_NOT_ACTIVE, "
                                  "PARTNER_REFUSED, TIMED_OUT …")
    def failure_reason(self) -> str | None:
        return self.answer.failure_code

    @strawberry.field
    def failure_message(self) -> str | None:
        return self.answer.failure_message

    @strawberry.field(description="NEEDS_ATTENTION: what is known, for operators.")
    def attention_reason(self) -> str | None:
        return self.answer.attention_reason

    @strawberry.field
    def created_at(self) -> datetime:
        return self.answer.created_at

    @strawberry.field
    def updated_at(self) -> datetime:
        return self.answer.updated_at

    @strawberry.field
    def completed_at(self) -> datetime | None:
        return self.answer.completed_at

    @strawberry.field(description="Until when the member may refund it themself; null: only operators can.")
    def refundable_until(self) -> datetime | None:
        return self.answer.refundable_until

    @strawberry.field
    def refund(self) -> RedemptionRefund | None:
        a = self.answer
        if a.refund_state is None and a.refund_failure is None:
            return None
        return RedemptionRefund(state=a.refund_state, reason=a.refund_reason, refunded_at=a.refunded_at,
                                points_to_original_lots=a.refund_to_lots, points_to_grace_lots=a.refund_to_grace,
                                grace_lot_expires_at=a.refund_grace_expires_at, refused=a.refund_failure)

    @strawberry.field(description="What the saga did, oldest first.")
    def timeline(self) -> list[RedemptionStep]:
        return [RedemptionStep.of(step) for step in self.answer.timeline]


def statuses_of(status: list[RedemptionStatus] | None) -> list[str] | None:
    return [s.value for s in status] if status else None


@strawberry.federation.type(keys=["id"], description="An alliance member; the redemptions subgraph adds their redemptions.")
class Member:
    id: strawberry.ID

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> Member:
        return cls(id=id)

    @strawberry.field(description="The member's redemptions, newest first (the member themself, staff and services).")
    async def redemptions(self, info: Info, first: int | None = None, after: str | None = None,
                          status: list[RedemptionStatus] | None = None, kind: RedemptionKind | None = None) -> Connection[Redemption]:
        page = await redeeming.list_redemptions(
            info.context.db, info.context.principal, PageRequest(first, after, cursor_types=(datetime, uuid.UUID)),
            member_id=parse_id(self.id), statuses=statuses_of(status), kind=kind.value if kind else None,
        )
        return Connection.from_page(page, Redemption.of)


ENTITY_TYPES: tuple[type, ...] = (Redemption, Member, Benefit, Partner)
