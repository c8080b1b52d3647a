"""Lots: crediting new points, vesting, expiring, and spending first-expiring first.

A lot's `remaining` points are still the member's: pending until `vested_at` is set, then available.
Points that leave a lot (reserved by a hold, expired, clawed back, debited) are traced by postings
carrying the lot's id, so every point can be followed from the lot it came from to where it went.

Debt (from returns the member's points could not cover) is repaid by the member's next points as
they become available: a credit that is available at once, or a pending lot when it vests. The
repaid points leave the lot to the issuer's clawback account and the member's debt account comes
back towards zero against the alliance's receivable.

Held points are not expired with their lot: the hold may still be captured. If it is released
instead, its points go straight to breakage (see spending).
"""

from __future__ import annotations

import uuid

from services.points.ledger import accounts
from services.points.ledger.chain import Leg
from services.points.ledger.rows import AccountRow, Credit, LotRow, TransactionRow
from services.points.ledger.rules import new_lot
from services.points.ledger.unit import LedgerUnit, post


def _repayment_legs(state: AccountRow, lot: LotRow, repay: int) -> list[Leg]:
    return [
        Leg(accounts.issuer(lot.issuer_partner_id, "clawback"), repay, lot.id),
        Leg(accounts.member(state.member_id, "debt"), repay),
        Leg(accounts.RECEIVABLE, -repay),
    ]


def credit(
    unit: LedgerUnit,
    state: AccountRow,
    points: Credit,
    *,
    kind: str,
    actor: str,
    reference: str | None = None,
    detail: dict | None = None,
    transaction_id: uuid.UUID | None = None,
) -> tuple[LotRow, TransactionRow]:
    """Issues new points from the issuer into a new lot of the member (pending or available),
    repaying debt first when they are available at once. Counts as earned."""
    lot = unit.add(new_lot(state.member_id, points, unit.now))
    legs = [Leg(accounts.issuer(points.issuer_partner_id, "issued"), -points.amount, lot.id)]
    repay = min(state.debt, points.amount) if lot.vested_at is not None else 0
    if repay:
        lot.remaining -= repay
        legs += _repayment_legs(state, lot, repay)
    if lot.remaining:
        legs.append(Leg(accounts.member(state.member_id, lot.bucket), lot.remaining, lot.id))
    posted = post(unit, state, kind=kind, legs=legs, actor=actor, reference=reference, detail=detail, transaction_id=transaction_id)
    lot.created_tx_id = posted.id
    state.lifetime_earned += points.amount
    return lot, posted


def vest(unit: LedgerUnit, state: AccountRow, lot: LotRow, *, actor: str) -> TransactionRow | None:
    """Moves a pending lot's points to available (repaying debt first); None if nothing moved."""
    if lot.vested_at is not None or lot.expired_at is not None:
        return None
    lot.vested_at = unit.now
    if lot.remaining == 0:  # all clawed back while pending: nothing to move
        return None
    moving = lot.remaining
    repay = min(state.debt, moving)
    legs = [Leg(accounts.member(state.member_id, "pending"), -moving, lot.id)]
    if repay:
        lot.remaining -= repay
        legs += _repayment_legs(state, lot, repay)
    if moving - repay:
        legs.append(Leg(accounts.member(state.member_id, "available"), moving - repay, lot.id))
    detail = {"lot": str(lot.id), "repaid": repay} if repay else {"lot": str(lot.id)}
    return post(unit, state, kind="VEST", legs=legs, actor=actor, detail=detail)


def expire(unit: LedgerUnit, state: AccountRow, lot: LotRow, *, actor: str, closing: bool = False) -> TransactionRow | None:
    """Expires the lot's remaining points to the issuer's breakage (None when none were left: the
    lot is just closed). `closing`: the member was erased, so the lot ends now, due or not (kind
    CLOSE: the liability figures drop as for expiry, and the ledger says why)."""
    if lot.expired_at is not None or (lot.expires_at > unit.now and not closing):
        return None
    points = lot.remaining
    lot.remaining, lot.expired_at = 0, unit.now
    if not points:
        return None
    state.lifetime_expired += points
    legs = [
        Leg(accounts.member(state.member_id, lot.bucket), -points, lot.id),
        Leg(accounts.issuer(lot.issuer_partner_id, "breakage"), points, lot.id),
    ]
    return post(unit, state, kind="CLOSE" if closing else "EXPIRE", legs=legs, actor=actor, detail={"lot": str(lot.id)})
