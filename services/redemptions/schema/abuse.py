"""Root fields of abuse control and the operators' queue."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

import orjson
import strawberry

from shared.federation import Info
from shared.federation.scalars import Long
from shared.graphql_pagination import Connection
from shared.ids import parse_id
from shared.pagination import PageRequest

from services.redemptions.abuse import service as abuse
from services.redemptions.attention import service as attention
from services.redemptions.abuse.service import SignalAnswer
from services.redemptions.redeeming.rules import Rules


@strawberry.type(description="The alliance-wide redemption rules (null: no such rule).")
class RedemptionRules:
    per_member_per_hour: int | None = strawberry.field(description="Redemptions a member may start in any hour.")
    points_per_member_per_day: Long | None = strawberry.field(description="Points a member may spend in any 24 hours.")
    members_per_account: int | None = strawberry.field(description="Members that may redeem with one platform account.")
    members_per_device: int | None = strawberry.field(description="Members that may redeem from one device.")
    young_account_days: int | None = strawberry.field(description="Members younger than this many days …")
    high_value_points: Long | None = strawberry.field(description="… redeem benefits of this many points or more after a review.")

    @classmethod
    def of(cls, r: Rules) -> RedemptionRules:
        return cls(per_member_per_hour=r.per_member_per_hour, points_per_member_per_day=r.points_per_member_per_day,
                   members_per_account=r.members_per_account, members_per_device=r.members_per_device,
                   young_account_days=r.young_account_days, high_value_points=r.high_value_points)


@strawberry.input(description="The alliance-wide redemption rules; a null field turns that rule off.")
class RedemptionRulesInput:
    per_member_per_hour: int | None = None
    points_per_member_per_day: Long | None = None
    members_per_account: int | None = None
    members_per_device: int | None = None
    young_account_days: int | None = None
    high_value_points: Long | None = None

    def rules(self) -> Rules:
        return Rules(self.per_member_per_hour, self.points_per_member_per_day, self.members_per_account,  # type: ignore[arg-type]
                     self.members_per_device, self.young_account_days, self.high_value_points)  # type: ignore[arg-type]


@strawberry.enum(description="OPEN until an operator releases the member or blocks them.")
class AbuseSignalStatus(enum.Enum):
    OPEN = "OPEN"
    RELEASED = "RELEASED"
    BLOCKED = "BLOCKED"


@strawberry.enum
class AbuseAction(enum.Enum):
    RELEASE = "RELEASE"
    BLOCK = "BLOCK"


@strawberry.type(description="A suspicious pattern admission refused (UNDER_REVIEW).")
class AbuseSignal:
    id: strawberry.ID
    member_id: strawberry.ID
    kind: str = strawberry.field(description="SHARED_ACCOUNT, SHARED_DEVICE, YOUNG_ACCOUNT_HIGH_VALUE.")
    status: AbuseSignalStatus
    detail: str = strawberry.field(description="The rule, its limit and what was seen, as a JSON object.")
    created_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None
    note: str | None

    @classmethod
    def of(cls, s: SignalAnswer) -> AbuseSignal:
        return cls(id=strawberry.ID(str(s.id)), member_id=strawberry.ID(str(s.member_id)), kind=s.kind,
                   status=AbuseSignalStatus(s.status), detail=orjson.dumps(s.detail).decode(), created_at=s.created_at,
                   resolved_at=s.resolved_at, resolved_by=s.resolved_by, note=s.note)


@strawberry.type
class AbuseQueries:
    @strawberry.field(description="Staff: the alliance-wide redemption rules.")
    async def redemption_rules(self, info: Info) -> RedemptionRules:
        return RedemptionRules.of(await abuse.get_rules(info.context.db, info.context.principal))

    @strawberry.field(description="Staff: abuse signals, newest first (OPEN by default; null status: all).")
    async def abuse_signals(self, info: Info, status: AbuseSignalStatus | None = AbuseSignalStatus.OPEN, first: int | None = None,
                            after: str | None = None) -> Connection[AbuseSignal]:
        page = await abuse.list_signals(info.context.db, info.context.principal,
                                        PageRequest(first, after, cursor_types=(datetime, uuid.UUID)),
                                        status.value if status else None)
        return Connection.from_page(page, AbuseSignal.of)

    @strawberry.field(description="Staff: whether a member is blocked from redeeming.")
    async def member_redemption_blocked(self, info: Info, member_id: strawberry.ID) -> bool:
        return await abuse.is_blocked(info.context.db, info.context.principal, parse_id(member_id, "memberId"))


@strawberry.type
class AbuseMutations:
    @strawberry.mutation(description="Operators: set the alliance-wide redemption rules (all of them at once).")
    async def set_redemption_rules(self, info: Info, input: RedemptionRulesInput) -> RedemptionRules:
        return RedemptionRules.of(await abuse.set_rules(info.context.db, info.context.principal, input.rules()))

    @strawberry.mutation(description="Operators: release the member (the rule stops applying to them) or block them.")
    async def resolve_abuse_signal(self, info: Info, id: strawberry.ID, action: AbuseAction, note: str | None = None) -> AbuseSignal:
        found = await abuse.resolve_signal(info.context.db, info.context.principal, parse_id(id), block=action is AbuseAction.BLOCK,
                                           note=note)
        return AbuseSignal.of(found)

    @strawberry.mutation(description="Operators: block a member from redeeming, or unblock them; answers whether blocked now.")
    async def set_member_redemption_blocked(self, info: Info, member_id: strawberry.ID, blocked: bool, reason: str | None = None) -> bool:
        return await abuse.set_member_blocked(info.context.db, info.context.principal, parse_id(member_id, "memberId"),
                                              blocked=blocked, reason=reason)

    @strawberry.mutation(description="Operators: send a NEEDS_ATTENTION redemption back into its saga at the step it stopped at.")
    async def retry_redemption(self, info: Info, id: strawberry.ID, note: str | None = None) -> strawberry.ID:
        done = await attention.retry_redemption(info.context.db, info.context.principal, parse_id(id), note)
        return strawberry.ID(str(done))

    @strawberry.mutation(description="Operators: a NEEDS_ATTENTION redemption whose benefit never reached the member (confirmed "
                                     "with the partner): its reservation and points are given back; it ends FAILED "
                                     "(NOT_DELIVERED). CONFLICT once delivered.")
    async def fail_redemption(self, info: Info, id: strawberry.ID, note: str | None = None) -> strawberry.ID:
        done = await attention.fail_redemption(info.context.db, info.context.principal, parse_id(id), note)
        return strawberry.ID(str(done))
