"""The subgraph's queries: each parses its arguments, calls one service-layer operation with the
caller's principal (which decides access), and turns the answer into a type."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from services.points.audit import checkpoint_verify
from services.points.audit import service as audit
from services.points.earning import service as earning
from services.points.partners import service as partners
from services.points.schema.checkpoints import CheckpointVerification
from services.points.schema.results import (
    CampaignView,
    ChainVerification,
    EarningPolicyView,
    LedgerCheckResult,
    Purchase,
    SettlementStatement,
    StatementLine,
)
from services.points.schema.types import Hold, MemberPoints, Partner, balances_loader
from services.points.spending import service as spending
from shared.federation import Info
from shared.graphql_pagination import Connection
from shared.ids import parse_id


@strawberry.type
class Query:
    @strawberry.field(description="A member's points (the member themself, staff, services).")
    async def member_points(self, info: Info, member_id: strawberry.ID) -> MemberPoints:
        return MemberPoints.of(await balances_loader(info).load(parse_id(member_id, "memberId")))

    @strawberry.field(description="A partner as points sees it (the partner itself, operators, services).")
    async def points_partner(self, info: Info, id: strawberry.ID) -> Partner:
        partners.visible_partner(info.context.principal, parse_id(id))
        return Partner(id=id)

    @strawberry.field(description="A hold (alliance services and operators).")
    async def hold(self, info: Info, id: strawberry.ID) -> Hold:
        return Hold.of(await spending.get_hold(info.context.db, info.context.principal, parse_id(id)))

    @strawberry.field(description="Recorded purchases, newest first: a partner its own, a member theirs, operators any.")
    async def purchases(
        self, info: Info, partner_id: strawberry.ID | None = None, member_id: strawberry.ID | None = None,
        first: int | None = None, after: str | None = None,
    ) -> Connection[Purchase]:
        page = await earning.purchases_page(
            info.context.db, info.context.principal,
            partner_id=parse_id(partner_id, "partnerId") if partner_id else None,
            member_id=parse_id(member_id, "memberId") if member_id else None,
            first=first, after=after,
        )
        return Connection[Purchase].from_page(page, Purchase.of)

    @strawberry.field(description="What the partner owes and is owed for redemptions in [from, to), netted per counterparty.")
    async def settlement_statement(
        self, info: Info, partner_id: strawberry.ID, from_: Annotated[datetime, strawberry.argument(name="from")], to: datetime,
    ) -> SettlementStatement:
        lines = await spending.settlement_statement(info.context.db, info.context.principal, parse_id(partner_id, "partnerId"), from_, to)
        return SettlementStatement(partner=Partner(id=partner_id), start=from_, end=to, lines=[StatementLine.of(line) for line in lines])

    @strawberry.field(description="Operators: the ledger balances and agrees with lots, holds and debt.")
    async def ledger_check(self, info: Info) -> LedgerCheckResult:
        return LedgerCheckResult.of(await audit.ledger_check(info.context.db, info.context.principal))

    @strawberry.field(description="Operators: recompute every member's hash chain.")
    async def verify_ledger_chain(self, info: Info) -> ChainVerification:
        return ChainVerification.of(await audit.verify_chains(info.context.db, info.context.principal))

    @strawberry.field(description="Operators: the signed checkpoint files, and every chain recomputed against the latest.")
    async def verify_ledger_against_checkpoint(self, info: Info) -> CheckpointVerification:
        return CheckpointVerification.of(await checkpoint_verify.verify_against_checkpoint(info.context.db, info.context.principal))

    @strawberry.field(description="Operators: the tier and birthday multipliers.")
    async def earning_policy(self, info: Info) -> EarningPolicyView:
        return EarningPolicyView.of(await earning.earning_policy(info.context.db, info.context.principal))

    @strawberry.field(description="Operators: earning campaigns.")
    async def points_campaigns(self, info: Info) -> list[CampaignView]:
        return [CampaignView.of(c) for c in await earning.campaigns(info.context.db, info.context.principal)]
