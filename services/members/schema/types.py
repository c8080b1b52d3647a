"""The members subgraph's types, each made from a service-layer answer, and the inputs.

Sibling fields resolve concurrently, so each database read goes through a per-request DataLoader
over a service-layer batch read (which takes its own short session).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

import strawberry
from strawberry.types.unset import UNSET

from shared.federation import Info
from shared.ids import parse_id

from services.members.profiles import service as profiles
from services.members.profiles.answers import LifecycleStage as DomainLifecycleStage
from services.members.profiles.answers import MemberView, Status
from services.members.tiers import service as tiers
from services.members.tiers.answers import GrowthKind as DomainGrowthKind
from services.members.tiers.answers import GrowthResult, PolicyView, ReviewSummary, TierChangeView

MemberStatus = strawberry.enum(Status, name="MemberStatus", description="ACTIVE, SUSPENDED or ERASED.")
LifecycleStage = strawberry.enum(
    DomainLifecycleStage,
    description="NEW (first 3 months), GROWING (3–12), MATURE (12+); AT_RISK after 90 days without activity.",
)
GrowthKind = strawberry.enum(DomainGrowthKind, description="What brought the growth.")


# --- loaders (one service-layer batch read per batch, per request) ---------------------------------


def members_loader(info: Info):  # noqa: ANN202
    db, principal = info.context.db, info.context.principal
    return info.context.loader("members.byId", lambda ids: profiles.members_by_id(db, principal, ids))


def _progress_loader(info: Info):  # noqa: ANN202
    db, principal = info.context.db, info.context.principal
    return info.context.loader("members.tierProgress", lambda views: tiers.progress_of(db, principal, views))


def _history_loader(info: Info, limit: int):  # noqa: ANN202
    db, principal = info.context.db, info.context.principal

    async def load(views: Sequence[MemberView]) -> list[list[TierChangeView] | None]:
        return await tiers.history_of(db, principal, views, limit)

    return info.context.loader(f"members.tierHistory:{limit}", load)


# --- types ---------------------------------------------------------------------------------------


@strawberry.type(description="A member's benefit interests and how often they may be notified.")
class MemberPreferences:
    categories: list[str]
    weekly_notification_cap: int


@strawberry.type(description="Where a member stands against the tier thresholds in the rolling window.")
class TierProgress:
    tier: str
    rolling_growth: int = strawberry.field(description="Growth in the window (windowStart, windowEnd].")
    window_start: datetime
    window_end: datetime
    next_tier: str | None = strawberry.field(description="Null at the top tier.")
    growth_to_next_tier: int | None = strawberry.field(description="Growth still needed to reach nextTier.")
    growth_to_keep_tier: int = strawberry.field(
        description="Growth still needed in the window to keep the current tier at the next review (0: safe)."
    )
    below_threshold_since: datetime | None = strawberry.field(
        description="When a review first found the member below their tier (the grace period started)."
    )
    downgrade_review_from: datetime | None = strawberry.field(
        description="The first review that may downgrade the member by one tier, if still below by then."
    )
    policy_version: int


@strawberry.type(description="One change of a member's tier.")
class TierChange:
    sequence: int
    from_tier: str | None
    to_tier: str
    reason: str = strawberry.field(description="JOINED, UPGRADE or DOWNGRADE.")
    rolling_growth: int
    policy_version: int
    occurred_at: datetime


@strawberry.federation.type(
    keys=["id"],
    description=(
        "An alliance member. Personal data is shown by role: in full to the member and operators, "
        "masked to customer service, not at all to partners, other members or services."
    ),
)
class Member:
    id: strawberry.ID
    status: MemberStatus  # type: ignore[valid-type]
    tier: str = strawberry.field(description="The member's tier code (BASIC, SILVER, GOLD, DIAMOND by default).")
    birthday_month: int | None = strawberry.field(description="1–12; also visible to alliance services.")
    joined_at: datetime | None
    last_activity_at: datetime | None
    lifecycle_stage: LifecycleStage | None  # type: ignore[valid-type]
    preferences: MemberPreferences | None
    erased_at: datetime | None
    view: strawberry.Private[MemberView]

    @classmethod
    def of(cls, view: MemberView) -> Member:
        prefs = view.preferences
        return cls(
            id=strawberry.ID(str(view.id)),
            status=Status(view.status),
            tier=view.tier,
            birthday_month=view.birthday_month,
            joined_at=view.joined_at,
            last_activity_at=view.last_activity_at,
            lifecycle_stage=view.lifecycle_stage,
            preferences=MemberPreferences(categories=list(prefs.categories), weekly_notification_cap=prefs.weekly_notification_cap)
            if prefs
            else None,
            erased_at=view.erased_at,
            view=view,
        )

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> Member | None:
        """Other subgraphs' references (`_entities`): batched through the request's DataLoader.
        An id that was never a member resolves to null."""
        view = await members_loader(info).load(parse_id(id))
        return cls.of(view) if view is not None else None

    # Personal fields are decrypted only when the query selects them (once per member per request).
    @strawberry.field
    def display_name(self) -> str | None:
        return self.view.display_name

    @strawberry.field(description="E.164; masked for customer service.")
    def phone(self) -> str | None:
        return self.view.phone

    @strawberry.field(description="Masked for customer service.")
    def email(self) -> str | None:
        return self.view.email

    @strawberry.field(description="MM-DD.")
    def birthday(self) -> str | None:
        birthday = self.view.birthday
        return str(birthday) if birthday else None

    @strawberry.field(description="Growth and thresholds; null for viewers who may not see it.")
    async def tier_progress(self, info: Info) -> TierProgress | None:
        progress = await _progress_loader(info).load(self.view)
        return TierProgress(**progress.__dict__) if progress is not None else None

    @strawberry.field(description="Tier changes, newest first; null for viewers who may not see them.")
    async def tier_history(self, info: Info, limit: int = 20) -> list[TierChange] | None:
        changes = await _history_loader(info, limit).load(self.view)
        return [TierChange(**change.__dict__) for change in changes] if changes is not None else None


@strawberry.type
class TierThreshold:
    code: str
    threshold: int


@strawberry.type(description="Tiers, thresholds and growth rates; every change is a new version.")
class TierPolicy:
    version: int
    tiers: list[TierThreshold]
    window_months: int
    grace_days: int
    purchase_growth_per_unit: int = strawberry.field(description="Growth per whole currency unit spent.")
    review_growth: int
    referral_growth: int
    created_at: datetime | None
    created_by: str | None = strawberry.field(description="Who made this version (operators only).")
    note: str | None

    @classmethod
    def of(cls, policy: PolicyView) -> TierPolicy:
        return cls(
            version=policy.version,
            tiers=[TierThreshold(code=t.code, threshold=t.threshold) for t in policy.tiers],
            window_months=policy.window_months,
            grace_days=policy.grace_days,
            purchase_growth_per_unit=policy.purchase_growth_per_unit,
            review_growth=policy.review_growth,
            referral_growth=policy.referral_growth,
            created_at=policy.created_at,
            created_by=policy.created_by,
            note=policy.note,
        )


@strawberry.type
class GrowthRecorded:
    event_id: str
    growth: int = strawberry.field(description="What the event is worth in growth (negative for a return).")
    duplicate: bool = strawberry.field(description="True when this event id was recorded before: nothing changed.")
    previous_tier: str
    tier: str
    rolling_growth: int
    member: Member

    @classmethod
    async def of(cls, result: GrowthResult, info: Info) -> GrowthRecorded:
        view = await members_loader(info).load(result.member_id)
        assert view is not None
        return cls(
            event_id=result.event_id, growth=result.growth, duplicate=result.duplicate,
            previous_tier=result.previous_tier, tier=result.tier, rolling_growth=result.rolling_growth,
            member=Member.of(view),
        )


@strawberry.type
class TierReviewResult:
    as_of: datetime
    reviewed: int
    upgraded: int
    marked: int = strawberry.field(description="Found below their tier for the first time: grace started.")
    downgraded: int
    cleared: int = strawberry.field(description="Back above their tier's threshold within the grace period.")

    @classmethod
    def of(cls, summary: ReviewSummary) -> TierReviewResult:
        return cls(**summary.__dict__)


# --- inputs --------------------------------------------------------------------------------------


@strawberry.input
class RegisterMemberInput:
    phone: str = strawberry.field(description="E.164, or an 11-digit mainland China mobile number.")
    display_name: str
    email: str | None = None
    birthday: str | None = strawberry.field(default=None, description="MM-DD; February 29 is allowed.")


@strawberry.input(description="Fields left out stay as they are; email and birthday may be set to null.")
class UpdateProfileInput:
    display_name: str | None = UNSET
    phone: str | None = UNSET
    email: str | None = UNSET
    birthday: str | None = strawberry.field(default=UNSET, description="MM-DD; changeable once per 365 days.")


@strawberry.input
class MemberPreferencesInput:
    categories: list[str] | None = strawberry.field(default=None, description="Up to 20 short slugs.")
    weekly_notification_cap: int | None = strawberry.field(default=None, description="0–50.")


@strawberry.input
class MemberFilter:
    tier: str | None = None
    status: MemberStatus | None = None  # type: ignore[valid-type]
    lifecycle_stage: LifecycleStage | None = None  # type: ignore[valid-type]
    phone: str | None = strawberry.field(default=None, description="Exact match (any accepted format).")
    email: str | None = strawberry.field(default=None, description="Exact match, case-insensitive.")


@strawberry.input
class RecordGrowthInput:
    event_id: str = strawberry.field(description="The idempotency key: the same event is counted once.")
    member_id: strawberry.ID
    kind: GrowthKind  # type: ignore[valid-type]
    occurred_at: datetime
    amount_minor: int | None = strawberry.field(default=None, description="PURCHASE and RETURN: minor units.")
    currency: str | None = strawberry.field(default=None, description="PURCHASE and RETURN: ISO 4217.")


@strawberry.input
class TierThresholdInput:
    code: str
    threshold: int


@strawberry.input(description="Fields left out keep their current values.")
class TierPolicyInput:
    tiers: list[TierThresholdInput] | None = None
    window_months: int | None = None
    grace_days: int | None = None
    purchase_growth_per_unit: int | None = None
    review_growth: int | None = None
    referral_growth: int | None = None
    note: str | None = None


def member_id(id: strawberry.ID | None) -> uuid.UUID | None:
    """The member an operation names; None: the signed-in member (the service layer decides)."""
    return parse_id(id) if id is not None else None
