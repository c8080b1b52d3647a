"""Operators decide on a NEEDS_ATTENTION redemption: retry it (the saga goes on from the step it
stopped at: a partner fixed its API, say), or fail it when the benefit is known never to have
reached the member (confirmed with the partner): its reservation and points are given back and it
ends FAILED with NOT_DELIVERED. A redemption stuck after delivery (at CAPTURE) cannot be failed:
the member has the benefit, so only a retry (or a refund) fits."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.auth.principals import Principal
from shared.database import Database
from shared.errors import Conflict, InvalidInput, NotFound
from shared.timeutil import utcnow

from services.redemptions import access
from services.redemptions.models import Redemption
from services.redemptions.saga import store as saga_store

MAX_NOTE = 500
_BEFORE_DELIVERY = ("HOLD", "RESERVE", "DELIVER", "RELEASE")


async def _decide(db: Database, principal: Principal, redemption_id: uuid.UUID, note: str | None,
                  decide: Any, outcome: str) -> uuid.UUID:
    access.require_operator(principal)
    if note is not None and len(note) > MAX_NOTE:
        raise InvalidInput(f"the note is longer than {MAX_NOTE} characters", field="note")
    now = utcnow()

    async def work(session: AsyncSession) -> None:
        row = (await session.exec(  # type: ignore[call-overload]
            sa.select(Redemption).where(saga_store.T.c.id == redemption_id).with_for_update())).scalars().first()
        if row is None:
            raise NotFound("no such redemption", id=str(redemption_id))
        if row.status != "NEEDS_ATTENTION":
            raise Conflict(f"only a redemption that needs attention is decided on; this one is {row.status.lower()}", status=row.status)
        values: dict[str, Any] = {"attempts": 0, "step_started_at": now, "next_attempt_at": now, "lease_owner": None,
                                  "lease_until": None, "updated_at": now, "attention_reason": None, **decide(row)}
        await session.exec(sa.update(saga_store.T).where(saga_store.T.c.id == redemption_id).values(**values))  # type: ignore[call-overload]
        await saga_store.add_timeline(session, redemption_id, [("OPERATOR", outcome, {"by": access.actor(principal), "note": note})], now)

    await db.run_transaction(work)
    return redemption_id


async def retry_redemption(db: Database, principal: Principal, redemption_id: uuid.UUID, note: str | None = None) -> uuid.UUID:
    """Back into the saga at the step it stopped at; the recovery loop takes it up at once."""

    def decide(row: Redemption) -> dict[str, Any]:
        if row.refund_step in ("VOID", "POINTS"):  # a refund that stopped: the refund goes on
            return {"status": "COMPLETED", "refund_state": "PENDING"}
        return {"status": "PENDING"}

    return await _decide(db, principal, redemption_id, note, decide, "RETRY")


async def fail_redemption(db: Database, principal: Principal, redemption_id: uuid.UUID, note: str | None = None) -> uuid.UUID:
    """The benefit never reached the member: give back and end FAILED (NOT_DELIVERED)."""

    def decide(row: Redemption) -> dict[str, Any]:
        if row.refund_step in ("VOID", "POINTS") or row.step not in _BEFORE_DELIVERY:
            raise Conflict("this redemption's benefit was delivered: retry it, or refund it", step=row.step)
        return {"status": "PENDING", "step": "RELEASE", "reserve_sent": True, "failure_code": "NOT_DELIVERED",
                "failure_message": "an operator confirmed the benefit never reached the member"}

    return await _decide(db, principal, redemption_id, note, decide, "FAIL")
