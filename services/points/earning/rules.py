"""Earning rules and purchase checks (pure: no I/O).

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
from datetime import datetime, timedelta

from services.points.config import PointsSettings
from services.points.partners.answers import PartnerProgram
from services.points.partners.rules import check_currency
from shared.errors import DomainError, InvalidInput, NotFound
from shared.idempotency import fingerprint
from shared.timeutil import require_aware

ONE = 10_000  # 1x in basis points
MAX_MULTIPLIER = 100 * ONE
DEFAULT_TIER_MULTIPLIERS = {"BASIC": ONE, "SILVER": 12_500, "GOLD": 15_000, "DIAMOND": 20_000}
DEFAULT_BIRTHDAY_MULTIPLIER = 2 * ONE
MAX_EXTERNAL_ID = 100
MAX_CATEGORY = 50
MAX_AMOUNT_MINOR = 10**12
MAX_CAMPAIGN_NAME = 100
MAX_TIER_NAME = 20


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


def check_multiplier(value: int, field: str) -> int:
    if not 0 < value <= MAX_MULTIPLIER:
        raise InvalidInput(f"a multiplier is 1 to {MAX_MULTIPLIER} basis points (10000 = 1x)", field=field)
    return value


def check_tier_multipliers(tier_multipliers: dict[str, int], birthday_multiplier: int) -> None:
    for tier, bps in tier_multipliers.items():
        if not tier or len(tier) > MAX_TIER_NAME:
            raise InvalidInput("a tier name is 1 to 20 characters", field="tier")
        check_multiplier(bps, "multiplierBps")
    check_multiplier(birthday_multiplier, "birthdayMultiplierBps")


def check_campaign(name: str, category: str | None, multiplier_bps: int, starts_at: datetime, ends_at: datetime) -> tuple[datetime, datetime]:
    """The campaign's window, checked (both ends time-zone aware, ending after it starts)."""
    if not name or len(name) > MAX_CAMPAIGN_NAME:
        raise InvalidInput("a campaign name is 1 to 100 characters", field="name")
    if category is not None and not 0 < len(category) <= MAX_CATEGORY:
        raise InvalidInput("a category is 1 to 50 characters", field="category")
    check_multiplier(multiplier_bps, "multiplierBps")
    starts_at, ends_at = require_aware(starts_at, "startsAt"), require_aware(ends_at, "endsAt")
    if ends_at <= starts_at:
        raise InvalidInput("a campaign ends after it starts", field="endsAt")
    return starts_at, ends_at


# --- purchases -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PurchaseInput:
    """A purchase a partner reports; (partner_id, external_id) identifies it."""

    partner_id: uuid.UUID
    member_id: uuid.UUID
    external_id: str
    amount_minor: int
    currency: str
    occurred_at: datetime
    category: str | None = None

    def fingerprint(self) -> str:
        return fingerprint(
            {
                "member": str(self.member_id),
                "amount": self.amount_minor,
                "currency": self.currency,
                "at": require_aware(self.occurred_at, "occurredAt").isoformat(),
                "category": self.category,
            }
        )


def check_purchase(item: PurchaseInput, now: datetime, settings: PointsSettings) -> None:
    if not item.external_id or not item.external_id.strip() or len(item.external_id) > MAX_EXTERNAL_ID:
        raise InvalidInput(f"externalId must be 1 to {MAX_EXTERNAL_ID} characters", field="externalId")
    if isinstance(item.amount_minor, bool) or not 0 < item.amount_minor <= MAX_AMOUNT_MINOR:
        raise InvalidInput("amountMinor must be a positive amount in minor units", field="amountMinor")
    check_currency(item.currency)
    occurred = require_aware(item.occurred_at, "occurredAt")
    if occurred > now + timedelta(seconds=settings.max_clock_skew_seconds):
        raise InvalidInput("occurredAt is in the future", field="occurredAt")
    if item.category is not None and not 0 < len(item.category) <= MAX_CATEGORY:
        raise InvalidInput(f"category must be 1 to {MAX_CATEGORY} characters", field="category")


class PartnerNotActive(DomainError):
    """The partner registry says the partner is suspended, not yet active, or does not earn."""

    code = "PARTNER_NOT_ACTIVE"


def check_issuer(
    item: PurchaseInput, partner: PartnerProgram | None, registry: tuple[str, tuple[str, ...]] | None = None
) -> PartnerProgram:
    """The purchase's partner, if it may issue points for it. `registry`: the partner registry's last
    word on it (status, roles); None while the registry has said nothing (a deployment without it)."""
    if partner is None:
        raise NotFound("this partner is not registered with the points programme", partnerId=str(item.partner_id))
    if registry is not None:
        status, roles = registry
        if status != "ACTIVE":
            raise PartnerNotActive(f"this partner is {status.lower()} in the partner registry", partnerId=str(item.partner_id), status=status)
        if "EARNING" not in roles:
            raise PartnerNotActive("this partner does not earn in the partner registry", partnerId=str(item.partner_id), status=status)
    if not partner.earning_enabled:
        raise InvalidInput("this partner does not issue points", field="partnerId", partnerId=str(item.partner_id))
    if item.currency != partner.currency:
        raise InvalidInput(
            f"this partner records purchases in {partner.currency}", field="currency", expected=partner.currency, got=item.currency
        )
    return partner
