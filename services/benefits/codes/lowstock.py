"""Low-stock alerts: `benefits.LowStock` once each time a pool falls below its owner's threshold.

Once per crossing under concurrency: the check runs after the change, with the benefit's row
locked (FOR NO KEY UPDATE) until commit, and counts in a statement that starts after the lock is
taken. So the last transaction to lower the stock sees every earlier one's committed change and
its own, and the `low_stock_alerted` flag it flips under that lock cannot be flipped twice. The
flag is cleared only when an upload brings the pool back to the threshold (a reservation released
in the meantime does not re-arm it, so stock wobbling around the threshold does not spam the
owner); changing the threshold re-arms it.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from services.benefits import events
from services.benefits.codes import rules, store


async def available_of(session: AsyncSession, row: Any) -> int | None:
    """Available stock as far as a threshold needs it: exact below the threshold, capped at it
    above (a code pool is not counted further than that); None when unlimited."""
    if row.delivery == "CODE":
        limit = row.low_stock_threshold if row.low_stock_threshold is not None else 0
        return await store.available_at_most(session, row.id, limit)
    return rules.counter_stock(row.stock_total, row.stock_reserved, row.stock_issued).available


async def after_stock_fell(session: AsyncSession, benefit: Any) -> bool:
    """Call after a change that lowered a benefit's available stock, in its transaction, with the
    benefit's row as read earlier in it. Publishes the alert if this change crossed the threshold;
    True when it did."""
    if benefit.low_stock_threshold is None or benefit.low_stock_alerted:
        return False  # nothing to watch, or already told (an upload re-arms it)
    return await _alert_if_low(session, benefit.id)


async def _alert_if_low(session: AsyncSession, benefit_id: uuid.UUID) -> bool:
    row = await store.benefit(session, benefit_id, lock=True)
    if row is None or row.low_stock_threshold is None or row.low_stock_alerted:
        return False
    available = await available_of(session, row)
    if not rules.is_low(available, row.low_stock_threshold):
        return False
    await store.set_low_stock_alerted(session, benefit_id, True)
    await events.publish_event(
        session,
        events.LOW_STOCK,
        {"partnerId": str(row.partner_id), "benefitId": str(row.id), "available": available, "threshold": row.low_stock_threshold},
    )
    return True


async def after_stock_rose(session: AsyncSession, benefit_id: uuid.UUID) -> None:
    """Call after an upload: re-arms the alert once the pool is back at or above the threshold."""
    row = await store.benefit(session, benefit_id, lock=True)
    if row is None or not row.low_stock_alerted or row.low_stock_threshold is None:
        return
    if not rules.is_low(await available_of(session, row), row.low_stock_threshold):
        await store.set_low_stock_alerted(session, benefit_id, False)


async def set_threshold(session: AsyncSession, benefit_id: uuid.UUID, threshold: int | None, now: datetime) -> None:
    """A new threshold (None: no alerts) re-arms the alert, and alerts at once if the stock is
    already below it."""
    await store.benefit(session, benefit_id, lock=True)
    await store.set_low_stock(session, benefit_id, threshold=threshold, alerted=False, now=now)
    if threshold is not None:
        await _alert_if_low(session, benefit_id)
