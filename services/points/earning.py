"""Earning rules: how many points a purchase earns.

    points = floor(amount × earnPoints / earnPerMinor × tier × birthday × campaign)

- base rate per partner (`earnPoints` per `earnPerMinor` minor units);
- tier multiplier, from the member's tier as learned from members' TierChanged events (a member
  points has not heard about counts as the base tier);
- birthday-month multiplier, when the purchase falls (in UTC) in the member's birthday month.
  Members does not publish birthdays, so points keeps a birthday month on the member's points
  profile, set by a service or an operator (`setPointsProfile`);
- campaigns: time-boxed multipliers for one partner or all, optionally one category; when several
  apply, the best one counts (campaigns do not stack).
Multipliers are integers in basis points (10000 = 1x) and rounding happens once, at the end.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.points.models import campaigns_t, partners_t, policy_t
from services.points.partners import PartnerProgram
from shared.database import Database
from shared.errors import InvalidInput, NotFound
from shared.ids import new_id
from shared.timeutil import require_aware, utcnow

ONE = 10_000  # 1x in basis points
MAX_MULTIPLIER = 100 * ONE
DEFAULT_TIER_MULTIPLIERS = {"BASIC": ONE, "SILVER": 12_500, "GOLD": 15_000, "DIAMOND": 20_000}
DEFAULT_BIRTHDAY_MULTIPLIER = 2 * ONE


@dataclass(frozen=True, slots=True)
class EarningPolicy:
    tier_multipliers: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_TIER_MULTIPLIERS))
    birthday_multiplier: int = DEFAULT_BIRTHDAY_MULTIPLIER

    def tier_multiplier(self, tier: str | None) -> int:
        return self.tier_multipliers.get(tier or "", ONE)


@dataclass(frozen=True, slots=True)
class CampaignRule:
    id: uuid.UUID
    name: str
    partner_id: uuid.UUID | None
    category: str | None
    multiplier_bps: int
    starts_at: datetime
    ends_at: datetime

    def applies(self, partner_id: uuid.UUID, category: str | None, occurred_at: datetime) -> bool:
        return (
            self.starts_at <= occurred_at < self.ends_at
            and (self.partner_id is None or self.partner_id == partner_id)
            and (self.category is None or self.category == category)
        )


@dataclass(frozen=True, slots=True)
class Earned:
    points: int
    rule: dict  # what was applied, stored with the purchase


def points_for(
    *,
    amount_minor: int,
    partner: PartnerProgram,
    tier: str | None,
    birthday_month: int | None,
    occurred_at: datetime,
    category: str | None,
    policy: EarningPolicy,
    campaigns: Sequence[CampaignRule],
) -> Earned:
    tier_bps = policy.tier_multiplier(tier)
    birthday_bps = policy.birthday_multiplier if birthday_month == occurred_at.month else ONE
    best = max(
        (c for c in campaigns if c.applies(partner.id, category, occurred_at)),
        key=lambda c: c.multiplier_bps,
        default=None,
    )
    campaign_bps = best.multiplier_bps if best else ONE
    numerator = amount_minor * partner.earn_points * tier_bps * birthday_bps * campaign_bps
    points = numerator // (partner.earn_per_minor * ONE**3)
    rule = {
        "earnPoints": partner.earn_points,
        "earnPerMinor": partner.earn_per_minor,
        "tier": tier,
        "tierBps": tier_bps,
        "birthdayBps": birthday_bps,
        "campaign": str(best.id) if best else None,
        "campaignBps": campaign_bps,
    }
    return Earned(points, rule)


async def load_policy(connection: AsyncConnection) -> EarningPolicy:
    row = (await connection.execute(select(policy_t.c.tier_multipliers_bps, policy_t.c.birthday_multiplier_bps))).first()
    if row is None:
        return EarningPolicy()
    return EarningPolicy({**DEFAULT_TIER_MULTIPLIERS, **row.tier_multipliers_bps}, row.birthday_multiplier_bps)


async def load_campaigns(connection: AsyncConnection, start: datetime, end: datetime) -> list[CampaignRule]:
    """Campaigns overlapping [start, end]."""
    c = campaigns_t
    rows = await connection.execute(
        select(c.c.id, c.c.name, c.c.partner_id, c.c.category, c.c.multiplier_bps, c.c.starts_at, c.c.ends_at).where(
            c.c.starts_at <= end, c.c.ends_at > start
        )
    )
    return [CampaignRule(**row._mapping) for row in rows]


def _check_multiplier(value: int, field: str) -> int:
    if not 0 < value <= MAX_MULTIPLIER:
        raise InvalidInput(f"a multiplier is 1 to {MAX_MULTIPLIER} basis points (10000 = 1x)", field=field)
    return value


async def set_policy(db: Database, *, tier_multipliers: dict[str, int], birthday_multiplier: int, actor: str) -> EarningPolicy:
    """Replaces the tier and birthday multipliers (tiers not named keep their defaults)."""
    for tier, bps in tier_multipliers.items():
        if not tier or len(tier) > 20:
            raise InvalidInput("a tier name is 1 to 20 characters", field="tier")
        _check_multiplier(bps, "multiplierBps")
    _check_multiplier(birthday_multiplier, "birthdayMultiplierBps")
    values = {
        "tier_multipliers_bps": tier_multipliers,
        "birthday_multiplier_bps": birthday_multiplier,
        "updated_at": utcnow(),
        "updated_by": actor,
    }
    async with db.engine.begin() as connection:
        await connection.execute(insert(policy_t).values(id=1, **values).on_conflict_do_update(index_elements=["id"], set_=values))
        return await load_policy(connection)


async def create_campaign(
    db: Database,
    *,
    name: str,
    multiplier_bps: int,
    starts_at: datetime,
    ends_at: datetime,
    partner_id: uuid.UUID | None,
    category: str | None,
    actor: str,
) -> CampaignRule:
    if not name or len(name) > 100:
        raise InvalidInput("a campaign name is 1 to 100 characters", field="name")
    if category is not None and not 0 < len(category) <= 50:
        raise InvalidInput("a category is 1 to 50 characters", field="category")
    _check_multiplier(multiplier_bps, "multiplierBps")
    starts_at, ends_at = require_aware(starts_at, "startsAt"), require_aware(ends_at, "endsAt")
    if ends_at <= starts_at:
        raise InvalidInput("a campaign ends after it starts", field="endsAt")
    campaign = CampaignRule(new_id(), name, partner_id, category, multiplier_bps, starts_at, ends_at)
    async with db.engine.begin() as connection:
        if partner_id is not None:
            known = (await connection.execute(select(partners_t.c.id).where(partners_t.c.id == partner_id))).first()
            if known is None:
                raise NotFound("this partner is not registered with the points programme", partnerId=str(partner_id))
        await connection.execute(
            campaigns_t.insert().values(
                id=campaign.id, name=name, partner_id=partner_id, category=category, multiplier_bps=multiplier_bps,
                starts_at=starts_at, ends_at=ends_at, created_by=actor,
            )
        )
    return campaign


async def end_campaign(db: Database, campaign_id: uuid.UUID, *, at: datetime | None = None) -> CampaignRule | None:
    """Ends a campaign now (or at `at`), never moving its end later. A campaign that has not
    started by then never applied to anything and is removed (None)."""
    at = require_aware(at, "at") if at else utcnow()
    c = campaigns_t
    async with db.engine.begin() as connection:
        row = (await connection.execute(select(c).where(c.c.id == campaign_id).with_for_update())).first()
        if row is None:
            raise NotFound("no such campaign", campaignId=str(campaign_id))
        if at <= row.starts_at:
            await connection.execute(c.delete().where(c.c.id == campaign_id))
            return None
        ends_at = min(row.ends_at, at)
        await connection.execute(c.update().where(c.c.id == campaign_id).values(ends_at=ends_at))
    return CampaignRule(row.id, row.name, row.partner_id, row.category, row.multiplier_bps, row.starts_at, ends_at)


async def list_campaigns(db: Database) -> list[CampaignRule]:
    c = campaigns_t
    async with db.engine.connect() as connection:
        rows = await connection.execute(
            select(c.c.id, c.c.name, c.c.partner_id, c.c.category, c.c.multiplier_bps, c.c.starts_at, c.c.ends_at).order_by(c.c.starts_at)
        )
        return [CampaignRule(**row._mapping) for row in rows]


async def get_policy(db: Database) -> EarningPolicy:
    async with db.engine.connect() as connection:
        return await load_policy(connection)
