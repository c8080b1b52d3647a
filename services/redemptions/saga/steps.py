"""What each step of the saga does: one call to another service (idempotent by a key derived from
the redemption), and the transition it leads to. No database here: the driver records transitions.

Forward: HOLD (points) → RESERVE (code or stock, and budget) → DELIVER (issue the code, or recharge
the member's platform account) → CAPTURE (points, with settlement to the benefit's owner) →
COMPLETE. A refusal before delivery compensates (RELEASE gives back the reservation and the hold)
and ends FAILED; after delivery nothing is taken back: a refused capture goes to NEEDS_ATTENTION,
and so does a recharge benefits answers CONFLICT for (its reservation ran out, so the partner may
have delivered under the key).

Refund (refund_step): VOID (void the unused code, or revoke the recharge) → POINTS (points back to
their lots, settlement reversed) → DONE: REFUNDED.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from services.redemptions import secrets
from services.redemptions.config import get_redemptions_settings
from services.redemptions.events import REDEMPTION_COMPLETED, REDEMPTION_REFUNDED
from services.redemptions.models import Redemption
from services.redemptions.peers import benefits, points
from services.redemptions.peers.calls import Refused
from services.redemptions.peers.members import MemberFacts

Timeline = list[tuple[str, str, dict[str, Any]]]


@dataclass
class Transition:
    changes: dict[str, Any]
    timeline: Timeline
    # Events published in the transaction that records the transition: (type, payload).
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


def reservation_key(row: Redemption) -> str:
    return f"redemption:{row.id}"


def step_key(row: Redemption, step: str) -> str:
    return f"redemption:{row.id}:{step}"


def member_of(row: Redemption) -> MemberFacts:
    facts = row.member_facts
    return MemberFacts(row.member_id, facts["status"], facts["tier"], facts.get("birthdayMonth"), None)


def compensate(row: Redemption, step: str, code: str, message: str, *, reserve_sent: bool, detail: dict[str, Any] | None = None) -> Transition:
    """Before delivery: give back what is held (RELEASE), then end FAILED with this reason."""
    return Transition(
        {"step": "RELEASE", "failure_code": code, "failure_message": message[:500], "reserve_sent": reserve_sent,
         "attempts": 0},
        [(step, "REFUSED", {"code": code, "message": message[:300], **(detail or {})})],
    )


def attention(row: Redemption, step: str, reason: str, detail: dict[str, Any] | None = None) -> Transition:
    """After delivery (or when nobody can tell): operators decide; the step stays, to be retried."""
    changes: dict[str, Any] = {"status": "NEEDS_ATTENTION", "attention_reason": reason[:500], "lease_owner": None, "lease_until": None}
    if step.startswith("REFUND"):
        changes["refund_state"] = None  # out of the recovery loop's hands; refund_step says where it stopped
    return Transition(changes, [(step, "NEEDS_ATTENTION", {"reason": reason[:300], **(detail or {})})])


def failed(code: str, message: str, now: datetime) -> dict[str, Any]:
    return {"status": "FAILED", "step": "DONE", "failure_code": code, "failure_message": message[:500],
            "failed_at": now, "lease_owner": None, "lease_until": None}


async def hold(row: Redemption, now: datetime) -> Transition:
    if row.points == 0:  # a free benefit (a birthday treat, say): no points to hold or capture
        return Transition({"step": "RESERVE", "attempts": 0, "step_started_at": now}, [("HOLD", "SKIPPED", {"points": 0})])
    settings = get_redemptions_settings()
    try:
        held = await points.hold(row.member_id, row.points, ttl_seconds=settings.hold_ttl_seconds,
                                 reference=reservation_key(row), key=step_key(row, "hold"))
    except Refused as refusal:  # nothing was held: nothing to give back
        return Transition(failed(refusal.code, refusal.message, now),
                          [("HOLD", "REFUSED", {"code": refusal.code, **refusal.extensions})])
    return Transition({"hold_id": held.hold_id, "step": "RESERVE", "attempts": 0, "step_started_at": now},
                      [("HOLD", "DONE", {"holdId": str(held.hold_id), "points": row.points})])


async def reserve(row: Redemption, now: datetime) -> Transition:
    try:
        reserved = await benefits.reserve(row.benefit_id, member_of(row), key=reservation_key(row),
                                          ttl_seconds=get_redemptions_settings().reservation_ttl_seconds)
    except Refused as refusal:
        return compensate(row, "RESERVE", refusal.code, refusal.message, reserve_sent=False, detail=refusal.extensions)
    return Transition(
        {"reserve_sent": True, "settlement_minor": reserved.settlement_minor, "currency": reserved.currency,
         "step": "DELIVER", "attempts": 0, "step_started_at": now},
        [("RESERVE", "DONE", {"settlementMinor": reserved.settlement_minor, "currency": reserved.currency})],
    )


async def deliver(row: Redemption, now: datetime) -> Transition:
    try:
        if row.delivery == "RECHARGE":
            recharged = await benefits.deliver_recharge(reservation_key(row), row.deliver_to or "")
            changes: dict[str, Any] = {"recharge_reference": recharged.reference}
            detail: dict[str, Any] = {"reference": recharged.reference}
        else:
            issued = await benefits.issue(reservation_key(row), reservation_key(row))
            code = issued.code or ""
            changes = {"code_ciphertext": secrets.seal_code(row.id, code), "code_masked": secrets.mask_code(code),
                       "code_valid_until": issued.valid_until, "code_state": "ISSUED"}
            detail = {"code": secrets.mask_code(code)}
    except Refused as refusal:
        if row.delivery == "RECHARGE" and refusal.code == "CONFLICT":
            return await _revoke_then_fail(row, refusal)
        return compensate(row, "DELIVER", refusal.code, refusal.message, reserve_sent=True, detail=refusal.extensions)
    return Transition({**changes, "step": "CAPTURE", "attempts": 0, "step_started_at": now}, [("DELIVER", "DONE", detail)])


async def _revoke_then_fail(row: Redemption, conflict: Refused) -> Transition:
    """The reservation is no longer RESERVED (its time ran out while the outcome was unknown, or
    while the partner was asked), yet the partner may have delivered under this key: giving the
    points back now could hand out a recharge for nothing. So the recharge is revoked first (which
    also bars the key at the partner if it never arrived); only then does the saga give back and
    fail. A partner that cannot revoke (the member used it) leaves it to operators."""
    try:
        state = await benefits.revoke_recharge(reservation_key(row))
    except Refused as refusal:
        return attention(row, "DELIVER", f"benefits answered CONFLICT ({conflict.message}): the recharge may have been "
                         f"delivered, and revoking it was refused: {refusal.code}: {refusal.message}", {"code": refusal.code, "conflict": conflict.message[:200], **refusal.extensions})
    return compensate(row, "DELIVER", "RESERVATION_EXPIRED", f"the reservation ran out before delivery was confirmed "
                      f"({conflict.message}); the recharge was revoked", reserve_sent=True, detail={"revoked": state})


async def capture(row: Redemption, now: datetime) -> Transition:
    if row.points == 0:  # nothing was held; the alliance pays the owner of a free benefit outside points' ledger
        completed = complete(row, now)
        return Transition(completed.changes, [("CAPTURE", "SKIPPED", {"points": 0}), *completed.timeline], completed.events)
    assert row.hold_id is not None and row.settlement_minor is not None and row.currency is not None
    try:
        transaction = await points.capture(row.hold_id, row.points, beneficiary=row.partner_id, value_minor=row.settlement_minor,
                                           currency=row.currency, key=step_key(row, "capture"))
    except Refused as refusal:
        return attention(row, "CAPTURE", f"delivered, but points refused the capture: {refusal.code}: {refusal.message}",
                         {"code": refusal.code, **refusal.extensions})
    # Captured is complete: recorded with the capture, in one transaction (COMPLETE stays a step of
    # its own only for sagas resumed from before this).
    completed = complete(row, now)
    return Transition({"capture_transaction_id": transaction, **completed.changes},
                      [("CAPTURE", "DONE", {"transactionId": str(transaction)}), *completed.timeline], completed.events)


def complete(row: Redemption, now: datetime) -> Transition:
    return Transition(
        {"status": "COMPLETED", "step": "DONE", "completed_at": now, "lease_owner": None, "lease_until": None},
        [("COMPLETE", "DONE", {})],
        [(REDEMPTION_COMPLETED, event_payload(row, completedAt=now))],
    )


async def release(row: Redemption, now: datetime) -> Transition:
    """Compensation: the reservation (if one may exist) and the hold (if one may exist) go back."""
    if row.reserve_sent:
        try:
            await benefits.release(reservation_key(row))
        except Refused as refusal:
            if refusal.code != "NOT_FOUND":  # never reserved: nothing to give back
                return attention(row, "RELEASE", f"the reservation could not be released: {refusal.code}: {refusal.message}",
                                 {"code": refusal.code})
    hold_id = row.hold_id
    if hold_id is None and row.points > 0:
        # The hold's outcome was never learnt: asking again with the same key answers the same hold
        # (or places one now, released at once), so nothing stays held by a saga that gave up.
        try:
            hold_id = (await points.hold(row.member_id, row.points, ttl_seconds=get_redemptions_settings().hold_ttl_seconds,
                                         reference=reservation_key(row), key=step_key(row, "hold"))).hold_id
        except Refused:
            hold_id = None
    if hold_id is not None:
        try:
            await points.release(hold_id, key=step_key(row, "release"))
        except Refused as refusal:
            if refusal.extensions.get("holdStatus") not in ("RELEASED", "EXPIRED"):
                return attention(row, "RELEASE", f"the hold could not be released: {refusal.code}: {refusal.message}",
                                 {"code": refusal.code})
    code = row.failure_code or "FAILED"
    return Transition({**failed(code, row.failure_message or code, now), "hold_id": hold_id},
                      [("RELEASE", "DONE", {"holdReleased": hold_id is not None, "reservationReleased": row.reserve_sent})])


# --- refund ---------------------------------------------------------------------------------------


async def void(row: Redemption, now: datetime) -> Transition:
    try:
        if row.delivery == "RECHARGE":
            state = await benefits.revoke_recharge(reservation_key(row))
        else:
            state = await benefits.void(reservation_key(row))
    except Refused as refusal:  # the benefit stays the member's: the refund is refused, nothing moved
        return Transition(
            {"refund_state": None, "refund_step": None, "refund_failure": f"{refusal.code}: {refusal.message}"[:500],
             "lease_owner": None, "lease_until": None},
            [("REFUND_VOID", "REFUSED", {"code": refusal.code, **refusal.extensions})],
        )
    changes: dict[str, Any] = {"refund_step": "POINTS", "attempts": 0, "step_started_at": now}
    if row.delivery == "CODE":
        changes["code_state"] = "VOIDED"
    return Transition(changes, [("REFUND_VOID", "DONE", {"state": state})])


async def refund_points(row: Redemption, now: datetime) -> Transition:
    try:
        if row.points == 0:
            refunded = points.Refunded(None, 0, 0, None)
        else:
            assert row.hold_id is not None
            refunded = await points.refund(row.hold_id, row.points, reason=row.refund_reason, key=step_key(row, "refund"))
    except Refused as refusal:
        return attention(row, "REFUND_POINTS", f"voided, but points refused the refund: {refusal.code}: {refusal.message}",
                         {"code": refusal.code})
    return Transition(
        {"status": "REFUNDED", "refund_state": "DONE", "refund_step": "DONE", "refunded_at": now,
         "refund_to_lots": refunded.to_original_lots, "refund_to_grace": refunded.to_grace_lots,
         "refund_grace_expires_at": refunded.grace_expires_at, "lease_owner": None, "lease_until": None},
        [("REFUND_POINTS", "DONE", {"toOriginalLots": refunded.to_original_lots, "toGraceLots": refunded.to_grace_lots})],
        [(REDEMPTION_REFUNDED, event_payload(row, refundedAt=now, reason=row.refund_reason))],
    )


def event_payload(row: Redemption, **extra: Any) -> dict[str, Any]:
    return {"redemptionId": str(row.id), "memberId": str(row.member_id), "benefitId": str(row.benefit_id),
            "partnerId": str(row.partner_id), "kind": row.kind, "points": row.points,
            "settlementMinor": row.settlement_minor, "currency": row.currency, **extra}


def step_of(row: Redemption) -> str:
    """The name of what the driver does next (crash points and the timeline use it)."""
    if row.refund_state == "PENDING":
        return "REFUND_VOID" if row.refund_step == "VOID" else "REFUND_POINTS"
    return row.step


async def advance(row: Redemption, now: datetime) -> Transition:
    match step_of(row):
        case "HOLD":
            return await hold(row, now)
        case "RESERVE":
            return await reserve(row, now)
        case "DELIVER":
            return await deliver(row, now)
        case "CAPTURE":
            return await capture(row, now)
        case "COMPLETE":
            return complete(row, now)
        case "RELEASE":
            return await release(row, now)
        case "REFUND_VOID":
            return await void(row, now)
        case "REFUND_POINTS":
            return await refund_points(row, now)
    raise RuntimeError(f"redemption {row.id} has no step to do ({row.step})")
