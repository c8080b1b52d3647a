"""Refunding a redemption: the member (within the benefit's refund window, counted from completion)
or an operator (any time). Idempotent: the redemption is the key, so asking again answers the same
refund.

The refund is a short saga of its own, driven like the redemption's (leased, resumed by the
recovery loop): VOID takes the benefit back (an unused code is voided; a recharge is revoked at the
platform) — if benefits refuses (ALREADY_USED, EXPIRED, the platform's PARTNER_REFUSED) nothing
moved and the refund is refused with that code; then POINTS returns the points to their original
lots through points (expired lots come back in a grace lot, and the answer says so), which also
reverses the settlement; benefits gave the budget and stock back with the void. REFUNDED, and
`RedemptionRefunded` is published.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import sqlalchemy as sa

from shared.auth.principals import Principal
from shared.database import Database
from shared.errors import InvalidInput, NotFound
from shared.timeutil import utcnow

from services.redemptions import access, errors
from services.redemptions.config import get_redemptions_settings
from services.redemptions.redeeming import service as redeeming
from services.redemptions.redeeming.answers import RedemptionAnswer, refundable_until
from services.redemptions.saga import driver
from services.redemptions.saga import store as saga_store

MAX_REASON = 500


async def refund(db: Database, principal: Principal, redemption_id: uuid.UUID, *, reason: str | None = None) -> RedemptionAnswer:
    if reason is not None and len(reason) > MAX_REASON:
        raise InvalidInput(f"reason is longer than {MAX_REASON} characters", field="reason")
    now = utcnow()
    async with db.session() as session:
        row = await saga_store.load(session, redemption_id)
    if row is None:
        raise NotFound("no such redemption", id=str(redemption_id))
    by_operator = access.require_refunder(principal, row.member_id)
    if row.status == "REFUNDED" or row.refund_state == "PENDING":
        return await redeeming.answer(db, principal, row.id)
    if row.status != "COMPLETED":
        raise errors.NotRefundable(f"only a completed redemption can be refunded; this one is {row.status.lower()}",
                                   status=row.status)
    if not by_operator:
        until = refundable_until(row)
        if until is None or now > until:
            raise errors.NotRefundable("the refund window of this benefit has closed; customer service can help",
                                       refundableUntil=until.isoformat() if until else None)
    if row.code_state == "USED":
        raise errors.RefundRefused("ALREADY_USED", "the voucher was used at the partner's store", usedAt=str(row.code_used_at))
    settings = get_redemptions_settings()

    async def start(session: object) -> bool:
        done = await session.exec(  # type: ignore[attr-defined]
            sa.update(saga_store.T)
            .where(saga_store.T.c.id == row.id, saga_store.T.c.status == "COMPLETED", saga_store.T.c.refund_state.is_(None))
            .values(refund_state="PENDING", refund_step="VOID", refund_reason=reason, refund_requested_by=access.actor(principal),
                    refund_requested_at=now, refund_failure=None, attempts=0, step_started_at=now, next_attempt_at=now,
                    lease_owner=driver.new_lease(), lease_until=now + timedelta(seconds=settings.lease_seconds), updated_at=now)
        )
        if done.rowcount == 1:
            await saga_store.add_timeline(session, row.id, [("REFUND", "REQUESTED", {"by": access.actor(principal), "reason": reason})], now)  # type: ignore[arg-type]
        return bool(done.rowcount == 1)

    if not await db.run_transaction(start):  # someone else started it a moment ago
        return await redeeming.answer(db, principal, row.id)
    async with db.session() as session:
        leased = await saga_store.load(session, row.id)
    assert leased is not None
    answered = await redeeming.drive_and_answer(db, principal, leased)
    if answered.refund_state is None and answered.refund_failure and answered.status == "COMPLETED":
        code, _, message = answered.refund_failure.partition(": ")
        raise errors.RefundRefused(code, f"the benefit could not be taken back: {message}", redemptionId=str(row.id))
    return answered
