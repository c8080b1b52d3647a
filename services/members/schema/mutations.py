"""The members subgraph's mutations: each resolver translates its input and calls one service-layer
operation, which decides who may do it."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types.unset import UNSET

from shared.federation import Info
from shared.ids import parse_id

from services.members.profiles import service as profiles
from services.members.profiles.answers import KEEP, ProfileChanges
from services.members.schema.types import (
    GrowthRecorded,
    Member,
    MemberPreferencesInput,
    RecordGrowthInput,
    RegisterMemberInput,
    TierPolicy,
    TierPolicyInput,
    TierReviewResult,
    UpdateProfileInput,
    member_id,
)
from services.members.tiers import service as tiers
from services.members.tiers.answers import GrowthInput, PolicyChange


def _keep(value: object) -> object:
    return KEEP if value is UNSET else value


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Registers a member (the sign-up service or staff).")
    async def register_member(self, info: Info, input: RegisterMemberInput) -> Member:
        view = await profiles.register_member(
            info.context.db,
            info.context.principal,
            phone=input.phone,
            display_name=input.display_name,
            email=input.email,
            birthday=input.birthday,
        )
        return Member.of(view)

    @strawberry.mutation(description="Changes a profile: the member's own (default), or any for operators.")
    async def update_profile(self, info: Info, input: UpdateProfileInput, id: strawberry.ID | None = None) -> Member:
        changes = ProfileChanges(
            display_name=_keep(input.display_name),  # type: ignore[arg-type]
            phone=_keep(input.phone),  # type: ignore[arg-type]
            email=_keep(input.email),  # type: ignore[arg-type]
            birthday=_keep(input.birthday),  # type: ignore[arg-type]
        )
        return Member.of(await profiles.update_profile(info.context.db, info.context.principal, member_id(id), changes))

    @strawberry.mutation(description="Benefit categories of interest and the weekly notification cap.")
    async def update_preferences(
        self, info: Info, input: MemberPreferencesInput, id: strawberry.ID | None = None
    ) -> Member:
        view = await profiles.update_preferences(
            info.context.db,
            info.context.principal,
            member_id(id),
            categories=input.categories,
            weekly_notification_cap=input.weekly_notification_cap,
        )
        return Member.of(view)

    @strawberry.mutation(description="Suspends a membership (operators).")
    async def suspend_member(self, info: Info, id: strawberry.ID, reason: str | None = None) -> Member:
        return Member.of(await profiles.suspend_member(info.context.db, info.context.principal, parse_id(id), reason))

    @strawberry.mutation(description="Lifts a suspension (operators).")
    async def reactivate_member(self, info: Info, id: strawberry.ID, reason: str | None = None) -> Member:
        return Member.of(await profiles.reactivate_member(info.context.db, info.context.principal, parse_id(id), reason))

    @strawberry.mutation(
        description="Erases a member's personal data for good (the member themself or an operator); the id stays valid."
    )
    async def erase_member(self, info: Info, id: strawberry.ID | None = None, reason: str | None = None) -> Member:
        return Member.of(await profiles.erase_member(info.context.db, info.context.principal, member_id(id), reason))

    @strawberry.mutation(description="Adds growth for one event, once per eventId (alliance services).")
    async def record_growth(self, info: Info, input: RecordGrowthInput) -> GrowthRecorded:
        result = await tiers.record_growth(
            info.context.db,
            info.context.principal,
            GrowthInput(
                event_id=input.event_id,
                member_id=parse_id(input.member_id, "memberId"),
                kind=input.kind,
                occurred_at=input.occurred_at,
                amount_minor=input.amount_minor,
                currency=input.currency,
            ),
        )
        return await GrowthRecorded.of(result, info)

    @strawberry.mutation(description="Changes the tier policy, as a new version (operators).")
    async def update_tier_policy(self, info: Info, input: TierPolicyInput) -> TierPolicy:
        change = PolicyChange(
            tiers=[(t.code, t.threshold) for t in input.tiers] if input.tiers is not None else None,
            window_months=input.window_months,
            grace_days=input.grace_days,
            purchase_growth_per_unit=input.purchase_growth_per_unit,
            review_growth=input.review_growth,
            referral_growth=input.referral_growth,
            note=input.note,
        )
        return TierPolicy.of(await tiers.update_policy(info.context.db, info.context.principal, change))

    @strawberry.mutation(description="Runs the tier review as of a moment (default now; not in the future). Idempotent.")
    async def run_tier_review(self, info: Info, as_of: datetime | None = None) -> TierReviewResult:
        summary = await tiers.review_tiers(info.context.db, info.context.principal, as_of=as_of)
        return TierReviewResult.of(summary)
