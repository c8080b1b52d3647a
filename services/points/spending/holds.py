"""Holds in a unit of work: reserve, capture (booking settlement), release, refund.

Points given back to a lot the expiry job has meanwhile expired are expired on the spot
(breakage), never made available. A refund returns captured points to their original lots,
latest-expiring first (the member gets the longest-lived points back); a lot that has expired
gives them back in a new grace lot.

Every function here runs inside the member's lock, so the status check and the change it guards
are one step: of a capture, a release and the expiry job racing for one hold, exactly one wins.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from services.points.ledger import accounts
from services.points.ledger import store as ledger
from services.points.ledger.chain import Leg
from services.points.ledger.rules import new_lot, take_first_expiring
from services.points.ledger.rows import GRACE, AccountRow, Credit, LotRow
from services.points.ledger.status import require_active_member
from services.points.ledger.unit import LedgerUnit, post
from services.points.models import Hold
from services.points.spending import store
from services.points.spending.answers import CaptureAnswer, HoldAnswer, RefundAnswer, ReleaseAnswer, SettlementLine
from services.points.spending.rows import AllocationRow, HoldRow, SettlementRow
from services.points.spending.rules import ACTIVE, CAPTURED, EXPIRED, RELEASED, require_active, reversal, split_pro_rata
from shared.errors import Conflict, InsufficientPoints, InvalidInput
from shared.ids import new_id


async def hold(unit: LedgerUnit, *, member_id: uuid.UUID, points: int, ttl: timedelta, reference: str, actor: str) -> HoldAnswer:
    state = await ledger.lock_member(unit, member_id)
    require_active_member(state)  # a suspended or erased member spends nothing
    if state.available < points:
        raise InsufficientPoints("not enough available points", available=state.available, requested=points)
    taken = take_first_expiring(await ledger.spendable_lots(unit, member_id, points), points)
    covered = sum(part for _, part in taken)
    if covered < points:  # some of the balance sits in lots past their expiry time
        raise InsufficientPoints("not enough available points", available=covered, requested=points)
    row = unit.add(
        HoldRow(
            id=new_id(),
            member_id=member_id,
            amount=points,
            captured=0,
            released=0,
            refunded=0,
            status=ACTIVE,
            reference=reference,
            expires_at=unit.now + ttl,
            beneficiary_partner_id=None,
            settlement_value_minor=None,
            settlement_currency=None,
            created_by=actor,
            created_at=unit.now,
            closed_at=None,
        )
    )
    legs: list[Leg] = []
    for lot, part in taken:
        lot.remaining -= part
        unit.add(AllocationRow(row.id, lot.id, part, 0, 0, 0, 0))
        legs += [
            Leg(accounts.member(member_id, "available"), -part, lot.id),
            Leg(accounts.member(member_id, "held"), part, lot.id),
        ]
    post(unit, state, kind="HOLD", legs=legs, actor=actor, reference=reference, detail={"hold": str(row.id)})
    return row.answer()


def _give_back(state: AccountRow, lot: LotRow, points: int) -> list[Leg]:
    """Legs returning held points to their lot, or to breakage if the job has expired the lot."""
    held = Leg(accounts.member(state.member_id, "held"), -points, lot.id)
    if lot.expired_at is not None:
        state.lifetime_expired += points
        return [held, Leg(accounts.issuer(lot.issuer_partner_id, "breakage"), points, lot.id)]
    lot.remaining += points
    return [held, Leg(accounts.member(state.member_id, "available"), points, lot.id)]


def _book(unit: LedgerUnit, transaction_id: uuid.UUID, hold_id: uuid.UUID, line: SettlementLine) -> None:
    unit.add(
        SettlementRow(
            transaction_id=transaction_id,
            hold_id=hold_id,
            lot_id=line.lot_id,
            issuer_partner_id=line.issuer_partner_id,
            beneficiary_partner_id=line.beneficiary_partner_id,
            points=line.points,
            amount_minor=line.amount_minor,
            currency=line.currency,
            created_at=unit.now,
        )
    )


async def capture(
    unit: LedgerUnit,
    *,
    hold_id: uuid.UUID,
    points: int,
    beneficiary_partner_id: uuid.UUID,
    value_minor: int,
    currency: str,
    actor: str,
) -> CaptureAnswer:
    state = await ledger.lock_member_of(unit, Hold, hold_id, "hold")
    loaded = await store.load_hold(unit, hold_id)
    hold = loaded.hold
    require_active(hold.id, hold.status, hold.expires_at, unit.now)
    if points > hold.amount:
        raise InvalidInput("cannot capture more than the hold reserved", field="points", held=hold.amount, requested=points)

    # Consume first-expiring first; whatever is left of each allocation goes back.
    consumed: list[tuple[AllocationRow, LotRow, int]] = []
    legs: list[Leg] = []
    left = points
    for allocation, lot in loaded.parts:
        part = min(allocation.amount, left)
        left -= part
        if part:
            consumed.append((allocation, lot, part))
        if allocation.amount - part:
            legs += _give_back(state, lot, allocation.amount - part)
    shares = split_pro_rata(value_minor, [part for _, _, part in consumed])
    lines: list[SettlementLine] = []
    for (allocation, lot, part), share in zip(consumed, shares):
        legs += [
            Leg(accounts.member(state.member_id, "held"), -part, lot.id),
            Leg(accounts.redeemed(lot.issuer_partner_id, beneficiary_partner_id), part, lot.id),
        ]
        allocation.captured, allocation.settled_minor = part, share
        lines.append(
            SettlementLine(
                lot_id=lot.id,
                issuer_partner_id=lot.issuer_partner_id,
                beneficiary_partner_id=beneficiary_partner_id,
                points=part,
                amount_minor=share,
                currency=currency,
            )
        )
    posted = post(
        unit,
        state,
        kind="CAPTURE",
        legs=legs,
        actor=actor,
        reference=hold.reference,
        detail={"hold": str(hold.id), "beneficiary": str(beneficiary_partner_id), "value": value_minor, "currency": currency},
    )
    for line in lines:
        _book(unit, posted.id, hold.id, line)
    hold.status, hold.captured, hold.released, hold.closed_at = CAPTURED, points, hold.amount - points, unit.now
    hold.beneficiary_partner_id, hold.settlement_value_minor, hold.settlement_currency = beneficiary_partner_id, value_minor, currency
    state.lifetime_spent += points
    return CaptureAnswer(hold=hold.answer(), transaction_id=posted.id, settlements=lines)


async def release(unit: LedgerUnit, *, hold_id: uuid.UUID, actor: str, expired: bool = False) -> ReleaseAnswer:
    """Gives all of an active hold back. `expired=True` is the job's release of a hold past its
    time limit (and only such a hold); a caller's release of an expired hold still works, since
    giving points back early is never wrong."""
    state = await ledger.lock_member_of(unit, Hold, hold_id, "hold")
    loaded = await store.load_hold(unit, hold_id)
    hold = loaded.hold
    if hold.status != ACTIVE:
        raise Conflict(f"the hold is {hold.status.lower()}", holdId=str(hold.id), holdStatus=hold.status)
    if expired and hold.expires_at > unit.now:
        raise Conflict("the hold has not expired", holdId=str(hold.id), holdStatus=hold.status)
    legs: list[Leg] = []
    for allocation, lot in loaded.parts:
        legs += _give_back(state, lot, allocation.amount)
    posted = post(
        unit, state, kind="EXPIRE_HOLD" if expired else "RELEASE", legs=legs, actor=actor,
        reference=hold.reference, detail={"hold": str(hold.id)},
    )
    hold.status, hold.released, hold.closed_at = (EXPIRED if expired else RELEASED), hold.amount, unit.now
    return ReleaseAnswer(hold=hold.answer(), transaction_id=posted.id)


async def refund(unit: LedgerUnit, *, hold_id: uuid.UUID, points: int, grace: timedelta, actor: str, reason: str | None) -> RefundAnswer:
    state = await ledger.lock_member_of(unit, Hold, hold_id, "hold")
    loaded = await store.load_hold(unit, hold_id)
    hold = loaded.hold
    if hold.status != CAPTURED:
        raise Conflict(f"only a captured hold can be refunded; this one is {hold.status.lower()}", holdId=str(hold.id), holdStatus=hold.status)
    refundable = hold.captured - hold.refunded
    if points > refundable:
        raise InvalidInput("cannot refund more than was captured", field="points", refundable=refundable, requested=points)
    beneficiary = hold.beneficiary_partner_id
    assert beneficiary is not None and hold.settlement_currency is not None
    legs: list[Leg] = []
    lines: list[SettlementLine] = []
    to_original = to_grace = 0
    grace_expires: datetime | None = None
    grace_lots: list[LotRow] = []
    left = points
    for allocation, lot in reversed(loaded.parts):  # latest-expiring first
        part = min(allocation.captured - allocation.refunded, left)
        if part <= 0:
            continue
        left -= part
        give_back = reversal(allocation.settled_minor, allocation.captured, allocation.refunded, allocation.refunded + part)
        allocation.refunded += part
        allocation.refunded_minor += give_back
        if lot.is_live(unit.now):
            target = lot
            lot.remaining += part
            to_original += part
        else:
            grace_credit = Credit(
                issuer_partner_id=lot.issuer_partner_id,
                cost_per_point_minor=lot.cost_per_point_minor,
                currency=lot.currency,
                amount=part,
                earned_at=unit.now,
                vests_at=unit.now,
                expires_at=unit.now + grace,
                source=GRACE,
                origin_lot_id=lot.id,
            )
            target = unit.add(new_lot(state.member_id, grace_credit, unit.now))
            to_grace += part
            grace_expires = target.expires_at
            grace_lots.append(target)
        legs += [
            Leg(accounts.redeemed(lot.issuer_partner_id, beneficiary), -part, target.id),
            Leg(accounts.member(state.member_id, "available"), part, target.id),
        ]
        lines.append(
            SettlementLine(
                lot_id=lot.id,
                issuer_partner_id=lot.issuer_partner_id,
                beneficiary_partner_id=beneficiary,
                points=-part,
                amount_minor=-give_back,
                currency=hold.settlement_currency,
            )
        )
        if left == 0:
            break
    posted = post(
        unit, state, kind="REFUND", legs=legs, actor=actor, reference=hold.reference,
        detail={"hold": str(hold.id), "reason": reason, "toOriginalLots": to_original, "toGraceLots": to_grace},
    )
    for lot in grace_lots:
        lot.created_tx_id = posted.id
    for line in lines:
        _book(unit, posted.id, hold.id, line)
    hold.refunded += points
    state.lifetime_spent -= points
    return RefundAnswer(
        hold=hold.answer(),
        transaction_id=posted.id,
        points_refunded=points,
        to_original_lots=to_original,
        to_grace_lots=to_grace,
        grace_lot_expires_at=grace_expires,
        settlements=lines,
    )
