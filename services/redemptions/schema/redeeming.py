"""Root fields of redeeming and refunds."""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry

from shared.federation import Info
from shared.graphql_pagination import Connection
from shared.ids import parse_id
from shared.pagination import PageRequest

from services.redemptions.redeeming import service as redeeming
from services.redemptions.redeeming.service import ClientContext
from services.redemptions.refunds import service as refunds
from services.redemptions.schema.types import Redemption, RedemptionKind, RedemptionStatus, statuses_of

DEVICE_HEADER = "x-device-id"
CLIENT_IP_HEADER = "x-client-ip"


@strawberry.input(description="Where the benefit goes: the member's account on a video platform, for recharges.")
class DeliverToInput:
    account: str | None = None


def _client(info: Info) -> ClientContext:
    request = info.context.request
    if request is None:
        return ClientContext()
    return ClientContext(device_id=request.headers.get(DEVICE_HEADER), client_ip=request.headers.get(CLIENT_IP_HEADER))


def _page(first: int | None, after: str | None) -> PageRequest:
    return PageRequest(first, after, cursor_types=(datetime, uuid.UUID))


@strawberry.type
class RedeemingQueries:
    @strawberry.field(description="One redemption: its member, the benefit's partner (no member data), staff and services.")
    async def redemption(self, info: Info, id: strawberry.ID) -> Redemption:
        return Redemption.of(await redeeming.answer(info.context.db, info.context.principal, parse_id(id)))

    @strawberry.field(description="Redemptions, newest first: a partner those of its own benefits (partnerId), staff and "
                                  "services any (by partner, or all).")
    async def redemptions(self, info: Info, partner_id: strawberry.ID | None = None, status: list[RedemptionStatus] | None = None,
                          kind: RedemptionKind | None = None, first: int | None = None,
                          after: str | None = None) -> Connection[Redemption]:
        page = await redeeming.list_redemptions(
            info.context.db, info.context.principal, _page(first, after),
            partner_id=parse_id(partner_id, "partnerId") if partner_id else None, statuses=statuses_of(status),
            kind=kind.value if kind else None,
        )
        return Connection.from_page(page, Redemption.of)

    @strawberry.field(description="Staff: the redemptions operators must decide on, newest first.")
    async def redemptions_needing_attention(self, info: Info, first: int | None = None, after: str | None = None) -> Connection[Redemption]:
        page = await redeeming.list_redemptions(info.context.db, info.context.principal, _page(first, after),
                                                statuses=["NEEDS_ATTENTION"])
        return Connection.from_page(page, Redemption.of)


@strawberry.type
class RedeemingMutations:
    @strawberry.mutation(description=(
        "Redeem a benefit: a member for themself, or a service for `memberId`. The same key answers the same redemption "
        "(IDEMPOTENCY_KEY_REUSED with another benefit or account). Answers COMPLETED or FAILED (failureReason) once the "
        "saga has run, or PENDING when a step is slow: poll `redemption(id)`. Refused before any redemption exists: "
        "MEMBER_BLOCKED, MEMBER_NOT_ACTIVE, NOT_AVAILABLE, NOT_FOUND, RATE_LIMITED, LIMIT_EXCEEDED, UNDER_REVIEW "
        "(extensions say which rule and its limit)."))
    async def redeem(self, info: Info, benefit_id: strawberry.ID, idempotency_key: str, deliver_to: DeliverToInput | None = None,
                     member_id: strawberry.ID | None = None) -> Redemption:
        answer = await redeeming.redeem(
            info.context.db, info.context.principal, benefit_id=parse_id(benefit_id, "benefitId"), idempotency_key=idempotency_key,
            account=deliver_to.account if deliver_to else None,
            member_id=parse_id(member_id, "memberId") if member_id else None, client=_client(info),
        )
        return Redemption.of(answer)

    @strawberry.mutation(description=(
        "Refund a completed redemption: its member within the benefit's window (refundableUntil), or an operator. An unused "
        "voucher is voided (ALREADY_USED once written off), a recharge revoked at the platform (PARTNER_REFUSED if it "
        "cannot be), the points go back to their lots and the settlement is reversed. Asking again answers the same refund."))
    async def refund_redemption(self, info: Info, id: strawberry.ID, reason: str | None = None) -> Redemption:
        return Redemption.of(await refunds.refund(info.context.db, info.context.principal, parse_id(id), reason=reason))
