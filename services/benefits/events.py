"""Benefits' events: what it publishes, to whom, and the subscriber that lives in this process.

Published (outbox, in the transaction of the change):
- `benefits.PartnerStatusChanged` to the services in ABG_BENEFITS_EVENT_SUBSCRIBERS (default points):
  {partnerId, status, version, roles, occurredAt}. Sent on every change of a partner's status or
  roles; `version` grows with every change of the partner, so a consumer keeps the highest it has
  seen (deliveries retry and overtake one another).
- `benefits.CodeWrittenOff` {partnerId, benefitId, codeId, writeOffId, reservationKey, memberId,
  storeId, occurredAt}: a code was written off at the owner's store; the owner gets a webhook and
  the services in ABG_BENEFITS_REDEMPTION_EVENT_SUBSCRIBERS (default redemptions)
  learn the member's voucher is used. `benefits.CodeWriteOffUndone`: the same fields, undone.
- `benefits.LowStock` {partnerId, benefitId, available, threshold}: a pool fell below its owner's
  threshold; once per crossing.
- `benefits.BenefitRedeemed` {partnerId, benefitId, redemptionId, kind, points, settlementMinor,
  currency, redeemedAt}: a member redeemed one of the partner's benefits (`points` paid by the member,
  `settlementMinor` in `currency` owed to the partner). `benefits.RedemptionRefunded`: the same
  fields with `refundedAt` instead, the redemption was refunded (the settlement is not owed). To the
  owner's webhook only; they carry no member data (no memberId, no refund reason).
Partner-facing events go to the subscriber `webhooks` with a `partnerId` (or a `partnerIds` list) in
the payload: the outbox dispatcher hands them to services/benefits/webhooks, which delivers them to
the partner's endpoint as signed webhooks (what partners receive: webhooks/WEBHOOKS.md; keep it in
step). List each type in `_SUBSCRIPTIONS` below.

Consumed (POST /events, services/benefits/inbox.py; each event once, by its id): from the
redemptions service only, `redemptions.RedemptionCompleted` {redemptionId, memberId, benefitId,
partnerId, kind, points, settlementMinor, currency, completedAt, occurredAt} → `benefits.BenefitRedeemed`,
and `redemptions.RedemptionRefunded` {…, refundedAt, occurredAt, reason} → `benefits.RedemptionRefunded`,
each published in the inbox's transaction (services/benefits/webhooks/redemptions.py).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from shared.events import EventSubscriptions, publish

from services.benefits.config import get_benefits_settings
from services.benefits.models import OUTBOX

SERVICE = "benefits"
WEBHOOKS = "webhooks"  # the in-process subscriber that turns events into partners' webhooks
CONFIGURED = "<settings>"  # stands for the services named in ABG_BENEFITS_EVENT_SUBSCRIBERS
REDEMPTIONS = "<redemptions>"  # stands for ABG_BENEFITS_REDEMPTION_EVENT_SUBSCRIBERS

PARTNER_STATUS_CHANGED = "benefits.PartnerStatusChanged"
WEBHOOK_PING = "benefits.WebhookPing"
CODE_WRITTEN_OFF = "benefits.CodeWrittenOff"
CODE_WRITE_OFF_UNDONE = "benefits.CodeWriteOffUndone"
LOW_STOCK = "benefits.LowStock"
BENEFIT_REDEEMED = "benefits.BenefitRedeemed"
REDEMPTION_REFUNDED = "benefits.RedemptionRefunded"

# Consumed (see services/benefits/inbox.py).
REDEMPTIONS_PRODUCER = "redemptions"
REDEMPTION_COMPLETED_IN = "redemptions.RedemptionCompleted"
REDEMPTION_REFUNDED_IN = "redemptions.RedemptionRefunded"

_SUBSCRIPTIONS: dict[str, tuple[str, ...]] = {
    PARTNER_STATUS_CHANGED: (CONFIGURED,),
    WEBHOOK_PING: (WEBHOOKS,),
    CODE_WRITTEN_OFF: (WEBHOOKS, REDEMPTIONS),
    CODE_WRITE_OFF_UNDONE: (WEBHOOKS, REDEMPTIONS),
    LOW_STOCK: (WEBHOOKS,),
    BENEFIT_REDEEMED: (WEBHOOKS,),
    REDEMPTION_REFUNDED: (WEBHOOKS,),
}


def subscriptions() -> EventSubscriptions:
    """Read at publish time, so a deployment (or a test) can change subscribers without a rebuild."""
    settings = get_benefits_settings()
    stands_for = {CONFIGURED: settings.subscribers, REDEMPTIONS: settings.redemption_subscribers}
    return EventSubscriptions(
        {
            type_: [name for target in targets for name in stands_for.get(target, (target,))]
            for type_, targets in _SUBSCRIPTIONS.items()
        }
    )


async def publish_event(session: AsyncSession, type_: str, payload: dict[str, Any]) -> uuid.UUID:
    """Writes one benefits event into the outbox, in the caller's transaction."""
    return await publish(session, OUTBOX, type=type_, payload=payload, subscribers=subscriptions()[type_], producer=SERVICE)
