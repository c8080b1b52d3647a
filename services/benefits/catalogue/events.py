"""Events the catalogue publishes through the service's outbox.

The partner's webhook dispatcher (subscriber `webhooks`) turns them into signed webhooks to the
partner the event concerns (`partnerId` in the payload).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from services.benefits.models import OUTBOX
from shared.events import EventSubscriptions, publish

BUDGET_THRESHOLD_REACHED = "benefits.BudgetThresholdReached"

SUBSCRIPTIONS = EventSubscriptions({BUDGET_THRESHOLD_REACHED: ("webhooks",)})


async def budget_threshold_reached(
    session: AsyncSession,
    *,
    partner_id: uuid.UUID,
    benefit_id: uuid.UUID | None,
    budget_id: uuid.UUID,
    percent: int,
    period_start: datetime,
    spent_minor: int,
    reserved_minor: int,
    limit_minor: int,
    currency: str,
) -> uuid.UUID:
    return await publish(
        session,
        OUTBOX,
        type=BUDGET_THRESHOLD_REACHED,
        # Ids as text: rows read through asyncpg carry its own UUID type, which JSON encoders refuse.
        payload={
            "partnerId": str(partner_id),
            "benefitId": str(benefit_id) if benefit_id is not None else None,
            "budgetId": str(budget_id),
            "percent": percent,
            "periodStart": period_start.isoformat(),
            "spentMinor": spent_minor,
            "reservedMinor": reserved_minor,
            "limitMinor": limit_minor,
            "currency": currency,
        },
        subscribers=SUBSCRIPTIONS[BUDGET_THRESHOLD_REACHED],
    )
