"""Business sanity at the ledger's door: caps on what one purchase may be and earn, and how old it
may be. A partner's programme may set its own caps; otherwise the alliance defaults from settings
(`ABG_POINTS_MAX_*`) apply. Above a cap a purchase is refused with a typed error naming the cap,
never held: a refusal is honest and the partner can re-send after an operator raises the cap
(nothing half-credited waits in a queue nobody watches)."""

from __future__ import annotations

from datetime import datetime, timedelta

from services.points.config import PointsSettings
from services.points.earning.rules import PurchaseInput
from services.points.partners.answers import PartnerProgram
from shared.errors import DomainError


class PurchaseOverCap(DomainError):
    """The purchase's amount is above the partner's cap (`cap`, minor units of `currency`)."""

    code = "PURCHASE_OVER_CAP"


class PointsOverDailyCap(DomainError):
    """The member would earn more than the partner's daily cap (`cap`) on the purchase's UTC day."""

    code = "POINTS_OVER_DAILY_CAP"


class PurchaseTooOld(DomainError):
    """The purchase happened longer ago than the partner's window (`maxAgeDays`)."""

    code = "PURCHASE_TOO_OLD"


def purchase_cap(partner: PartnerProgram, settings: PointsSettings) -> int:
    return partner.max_purchase_minor or settings.max_purchase_minor


def daily_points_cap(partner: PartnerProgram, settings: PointsSettings) -> int:
    return partner.max_points_per_member_day or settings.max_points_per_member_day


def max_age_days(partner: PartnerProgram, settings: PointsSettings) -> int:
    return partner.max_purchase_age_days or settings.max_purchase_age_days


def check_purchase_limits(item: PurchaseInput, partner: PartnerProgram, settings: PointsSettings, now: datetime) -> None:
    """The purchase's own caps (amount, age); the daily points cap needs the ledger (`purchases`)."""
    cap = purchase_cap(partner, settings)
    if item.amount_minor > cap:
        raise PurchaseOverCap(
            "this purchase is above the partner's purchase cap", field="amountMinor", cap=cap, currency=partner.currency,
            partnerId=str(partner.id),
        )
    days = max_age_days(partner, settings)
    if item.occurred_at < now - timedelta(days=days):
        raise PurchaseTooOld(
            f"purchases older than {days} days are not accepted", field="occurredAt", maxAgeDays=days,
            partnerId=str(partner.id),
        )


def over_daily_cap(partner: PartnerProgram, settings: PointsSettings, earned_that_day: int, points: int) -> PointsOverDailyCap | None:
    cap = daily_points_cap(partner, settings)
    if earned_that_day + points <= cap:
        return None
    return PointsOverDailyCap(
        "the member would earn more than this partner's daily points cap", cap=cap, earnedThatDay=earned_that_day,
        points=points, partnerId=str(partner.id),
    )
