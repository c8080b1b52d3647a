"""The members subgraph's queries: each resolver calls one service-layer read."""

from __future__ import annotations

import strawberry

from shared.federation import Info
from shared.graphql_pagination import Connection
from shared.ids import parse_id

from services.members.profiles import service as profiles
from services.members.profiles.answers import MemberFilter as Filter
from services.members.schema.types import LifecycleStage, Member, MemberFilter, MemberStatus, TierPolicy, members_loader
from services.members.tiers import service as tiers


@strawberry.type
class Query:
    # The access directives restate the service layer's rules (services/members/access.py) so the
    # gateway can refuse these fields before asking; the resolvers still check for themselves.
    @strawberry.federation.field(description="The signed-in member.", requires_scopes=[["member"]])
    async def me(self, info: Info) -> Member:
        member_id = profiles.my_id(info.context.principal)
        return Member.of(profiles.found(await members_loader(info).load(member_id), member_id))

    @strawberry.field(description="One member: that member themself, staff and alliance services.")
    async def member(self, info: Info, id: strawberry.ID) -> Member:
        return Member.of(await profiles.get_member(info.context.db, info.context.principal, parse_id(id)))

    @strawberry.field(description="Members, newest first, for staff.")
    async def members(
        self,
        info: Info,
        filter: MemberFilter | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Member]:
        f = filter or MemberFilter()
        page = await profiles.list_members(
            info.context.db,
            info.context.principal,
            Filter(tier=f.tier, status=f.status, lifecycle_stage=f.lifecycle_stage, phone=f.phone, email=f.email),
            first=first,
            after=after,
        )
        return Connection[Member].from_page(page, Member.of)

    @strawberry.federation.field(
        description="Staff: how many members there are with this status and lifecycle stage (null: any), "
        "now; memberCount(status: ACTIVE) is the denominator of the redemption rate.",
        requires_scopes=[["staff"]],
    )
    async def member_count(
        self,
        info: Info,
        status: MemberStatus | None = None,  # type: ignore[valid-type]
        lifecycle_stage: LifecycleStage | None = None,  # type: ignore[valid-type]
    ) -> int:
        return await profiles.count_members(
            info.context.db, info.context.principal, Filter(status=status, lifecycle_stage=lifecycle_stage)
        )

    @strawberry.federation.field(description="The tier policy in force.", authenticated=True)
    async def tier_policy(self, info: Info) -> TierPolicy:
        return TierPolicy.of(await tiers.current_policy(info.context.db, info.context.principal))

    @strawberry.federation.field(
        description="Every version of the tier policy, newest first (operators).", requires_scopes=[["operator"]]
    )
    async def tier_policy_history(self, info: Info, limit: int = 20) -> list[TierPolicy]:
        policies = await tiers.policy_history(info.context.db, info.context.principal, limit)
        return [TierPolicy.of(p) for p in policies]
