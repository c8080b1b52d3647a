"""Spending's operations: holds for alliance services (redemptions), reading holds, releasing
holds past their time limit (the job), and partners' settlement statements.

Each operation decides access, checks its input before it opens a transaction (a bad request costs
no lock), then runs as one retried transaction with its idempotency key; keys are per caller.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from services.points import access
from services.points.config import get_points_settings
from services.points.ledger.unit import LedgerUnit
from services.points.models import IDEMPOTENCY
from services.points.partners import store as partners
from services.points.partners.rules import check_currency
from services.points.spending import holds, store
from services.points.spending.answers import CaptureAnswer, HoldAnswer, RefundAnswer, ReleaseAnswer, StatementLine
from shared.auth import Principal
from shared.database import Database, Idempotency, run_operation, run_unit
from shared.errors import Conflict, InvalidInput, NotFound
from shared.timeutil import utcnow

MAX_POINTS = 10**12  # far above any real balance; refuses overflow-sized input early
MAX_REFERENCE = 200
MAX_REASON = 500


def _positive(points: int, field: str = "points") -> int:
    if isinstance(points, bool) or not isinstance(points, int) or not 0 < points <= MAX_POINTS:
        raise InvalidInput(f"{field} must be a positive whole number of points", field=field)
    return points


def _text(value: str | None, field: str, limit: int, *, required: bool = True) -> str | None:
    if value is None or not value.strip():
        if required:
            raise InvalidInput(f"{field} is required", field=field)
        return None
    if len(value) > limit:
        raise InvalidInput(f"{field} is longer than {limit} characters", field=field)
    return value


async def hold_points(
    db: Database,
    principal: Principal,
    *,
    member_id: uuid.UUID,
    points: int,
    ttl_seconds: int,
    reference: str,
    idempotency_key: str,
    now: datetime | None = None,
) -> HoldAnswer:
    """Reserves the member's points, first-expiring first, for `ttl_seconds` at most."""
    access.require_spender(principal)
    settings = get_points_settings()
    _positive(points)
    if not settings.min_hold_ttl_seconds <= ttl_seconds <= settings.max_hold_ttl_seconds:
        raise InvalidInput(
            f"ttlSeconds must be {settings.min_hold_ttl_seconds} to {settings.max_hold_ttl_seconds}", field="ttlSeconds"
        )
    _text(reference, "reference", MAX_REFERENCE)
    actor = access.actor(principal)
    ttl = timedelta(seconds=ttl_seconds)
    request = {"member": str(member_id), "points": points, "ttl": ttl_seconds, "reference": reference}
    return await run_operation(
        db,
        LedgerUnit,
        lambda unit: holds.hold(unit, member_id=member_id, points=points, ttl=ttl, reference=reference, actor=actor),
        HoldAnswer,
        idempotency=Idempotency(IDEMPOTENCY, f"hold:{actor}", idempotency_key, request),
        now=now,
    )


async def capture_hold(
    db: Database,
    principal: Principal,
    *,
    hold_id: uuid.UUID,
    points: int,
    beneficiary_partner_id: uuid.UUID,
    value_minor: int,
    currency: str,
    idempotency_key: str,
    now: datetime | None = None,
) -> CaptureAnswer:
    """Captures `points` of the hold (the rest goes back) and books what the issuers of the
    consumed lots owe the beneficiary, `value_minor` in all."""
    access.require_spender(principal)
    _positive(points)
    if isinstance(value_minor, bool) or not 0 <= value_minor <= MAX_POINTS:
        raise InvalidInput("the settlement value must be zero or more minor units", field="valueMinor")
    check_currency(currency)
    actor = access.actor(principal)

    async def work(unit: LedgerUnit) -> CaptureAnswer:
        beneficiary = await partners.programme_in(unit, beneficiary_partner_id)
        if beneficiary is None:
            raise NotFound("the beneficiary is not registered with the points programme", partnerId=str(beneficiary_partner_id))
        if beneficiary.currency != currency:
            raise InvalidInput(f"the beneficiary settles in {beneficiary.currency}", field="currency", expected=beneficiary.currency, got=currency)
        return await holds.capture(
            unit, hold_id=hold_id, points=points, beneficiary_partner_id=beneficiary_partner_id,
            value_minor=value_minor, currency=currency, actor=actor,
        )

    request = {"hold": str(hold_id), "points": points, "beneficiary": str(beneficiary_partner_id), "value": value_minor, "currency": currency}
    idempotency = Idempotency(IDEMPOTENCY, f"capture:{actor}", idempotency_key, request)
    return await run_operation(db, LedgerUnit, work, CaptureAnswer, idempotency=idempotency, now=now)


async def release_hold(
    db: Database, principal: Principal, *, hold_id: uuid.UUID, idempotency_key: str, now: datetime | None = None
) -> ReleaseAnswer:
    access.require_spender(principal)
    actor = access.actor(principal)
    return await run_operation(
        db,
        LedgerUnit,
        lambda unit: holds.release(unit, hold_id=hold_id, actor=actor),
        ReleaseAnswer,
        idempotency=Idempotency(IDEMPOTENCY, f"release:{actor}", idempotency_key, {"hold": str(hold_id)}),
        now=now,
    )


async def refund_capture(
    db: Database,
    principal: Principal,
    *,
    hold_id: uuid.UUID,
    points: int,
    idempotency_key: str,
    reason: str | None = None,
    now: datetime | None = None,
) -> RefundAnswer:
    """Returns captured points to their lots (or to grace lots where those expired)."""
    access.require_spender(principal)
    _positive(points)
    _text(reason, "reason", MAX_REASON, required=False)
    grace = timedelta(days=get_points_settings().grace_days)
    actor = access.actor(principal)
    return await run_operation(
        db,
        LedgerUnit,
        lambda unit: holds.refund(unit, hold_id=hold_id, points=points, grace=grace, actor=actor, reason=reason),
        RefundAnswer,
        idempotency=Idempotency(IDEMPOTENCY, f"refund:{actor}", idempotency_key, {"hold": str(hold_id), "points": points, "reason": reason}),
        now=now,
    )


async def get_hold(db: Database, principal: Principal, hold_id: uuid.UUID) -> HoldAnswer:
    """A hold (alliance services and operators)."""
    access.require_spender_or_operator(principal)
    row = await store.hold_by_id(db, hold_id)
    if row is None:
        raise NotFound("no such hold", holdId=str(hold_id))
    return row.answer()


async def expire_hold(db: Database, principal: Principal, hold_id: uuid.UUID, *, now: datetime) -> bool:
    """Releases one hold past its time limit; False if a capture or release got there first."""
    access.require_operator_or_system(principal)
    try:
        await run_unit(db, LedgerUnit, lambda unit: holds.release(unit, hold_id=hold_id, actor=access.JOB_ACTOR, expired=True), now=now)
    except (Conflict, NotFound):
        return False
    return True


async def release_expired_holds(db: Database, principal: Principal, *, now: datetime | None = None) -> tuple[int, int]:
    """Releases holds past their time limit, one hold per transaction (a capture or release that
    got there first wins, and the run moves on); returns (holds, points) released."""
    access.require_operator_or_system(principal)
    now = now or utcnow()
    batch = get_points_settings().job_batch_members
    seen: set[uuid.UUID] = set()
    released = points = 0
    while True:
        due = await store.due_holds(db, now, skip=seen, limit=batch)
        if not due:
            return released, points
        for hold_id, amount in due:
            seen.add(hold_id)
            if await expire_hold(db, principal, hold_id, now=now):
                released += 1
                points += amount


async def settlement_statement(
    db: Database, principal: Principal, partner_id: uuid.UUID, start: datetime, end: datetime
) -> list[StatementLine]:
    """What the partner owes and is owed for redemptions in [start, end), netted per counterparty
    (the partner itself, operators, alliance services)."""
    access.require_partner_reader(principal, partner_id)
    if end <= start:
        raise InvalidInput("`to` must be after `from`", argument="to")
    return await store.statement_lines(db, partner_id, start, end)
