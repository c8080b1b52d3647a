"""Redemptions of a partner's benefits, told to the partner: the redemptions service's
`RedemptionCompleted` and `RedemptionRefunded` become the partner-facing `benefits.BenefitRedeemed`
and `benefits.RedemptionRefunded`, published to the `webhooks` subscriber in the inbox's transaction
(so an event is told once, and only if it was taken).

The partner is the benefit's owner as benefits knows it; a redemption that names another partner,
or a kind or currency the benefit does not have, is refused (the event fails, nobody is told) rather
than told to the wrong partner. What a partner is told holds no member data: no member id, and not
the refund's free-text reason (which a member or an agent may have written).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from shared.errors import InvalidInput, NotFound
from shared.events import Event

from services.benefits.codes import store as codes_store
from services.benefits.events import BENEFIT_REDEEMED, REDEMPTION_REFUNDED, publish_event

KINDS = ("VOUCHER", "VIDEO_MEMBERSHIP")
MAX_AMOUNT = 10**15  # points and minor units: far beyond any real redemption, well inside a JSON number


@dataclass(frozen=True, slots=True)
class RedemptionFacts:
    """What a redemption event says, checked."""

    redemption_id: uuid.UUID
    benefit_id: uuid.UUID
    partner_id: uuid.UUID
    kind: str
    points: int
    settlement_minor: int
    currency: str
    at: datetime  # completedAt or refundedAt, in UTC


def redemption_facts(payload: Mapping[str, Any], time_field: str) -> RedemptionFacts:
    """Checks a redemption event's payload; raises `InvalidInput` naming the first bad field."""
    kind = payload.get("kind")
    if kind not in KINDS:
        raise InvalidInput("kind must be VOUCHER or VIDEO_MEMBERSHIP", field="kind")
    currency = payload.get("currency")
    if not isinstance(currency, str) or len(currency) != 3 or not currency.isascii() or not currency.isupper():
        raise InvalidInput("currency must be an ISO 4217 code such as CNY", field="currency")
    return RedemptionFacts(
        redemption_id=_uuid(payload, "redemptionId"), benefit_id=_uuid(payload, "benefitId"),
        partner_id=_uuid(payload, "partnerId"), kind=kind, points=_amount(payload, "points"),
        settlement_minor=_amount(payload, "settlementMinor"), currency=currency, at=_time(payload, time_field),
    )


def partner_payload(facts: RedemptionFacts, time_name: str) -> dict[str, Any]:
    """What the partner's webhook carries (no member data)."""
    return {
        "partnerId": str(facts.partner_id), "benefitId": str(facts.benefit_id), "redemptionId": str(facts.redemption_id),
        "kind": facts.kind, "points": facts.points, "settlementMinor": facts.settlement_minor, "currency": facts.currency,
        time_name: facts.at.isoformat(),
    }


async def tell_partner_redeemed(session: AsyncSession, event: Event) -> None:
    """`redemptions.RedemptionCompleted` → `benefits.BenefitRedeemed` {…, redeemedAt}."""
    facts = await _checked(session, redemption_facts(event.payload, "completedAt"))
    await publish_event(session, BENEFIT_REDEEMED, partner_payload(facts, "redeemedAt"))


async def tell_partner_refunded(session: AsyncSession, event: Event) -> None:
    """`redemptions.RedemptionRefunded` → `benefits.RedemptionRefunded` {…, refundedAt}."""
    facts = await _checked(session, redemption_facts(event.payload, "refundedAt"))
    await publish_event(session, REDEMPTION_REFUNDED, partner_payload(facts, "refundedAt"))


async def _checked(session: AsyncSession, facts: RedemptionFacts) -> RedemptionFacts:
    benefit = await codes_store.benefit(session, facts.benefit_id)
    if benefit is None:
        raise NotFound("benefitId names no benefit", field="benefitId", benefitId=str(facts.benefit_id))
    for field, said, known in (("partnerId", facts.partner_id, benefit.partner_id), ("kind", facts.kind, benefit.kind),
                               ("currency", facts.currency, benefit.currency)):
        if said != known:
            raise InvalidInput(f"{field} is not the benefit's ({known})", field=field, benefitId=str(facts.benefit_id))
    return facts


def _uuid(payload: Mapping[str, Any], field: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(payload[field]))
    except (KeyError, ValueError):
        raise InvalidInput(f"{field} must be an id (UUID)", field=field) from None


def _amount(payload: Mapping[str, Any], field: str) -> int:
    value = payload.get(field)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_AMOUNT:
        raise InvalidInput(f"{field} must be a whole number from 0 to {MAX_AMOUNT}", field=field)
    return value


def _time(payload: Mapping[str, Any], field: str) -> datetime:
    raw = payload.get(field)
    try:
        at = datetime.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        at = None
    if at is None or at.tzinfo is None:
        raise InvalidInput(f"{field} must be an ISO 8601 time with a UTC offset", field=field)
    return at.astimezone(UTC)
