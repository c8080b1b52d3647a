"""Crediting points: new lots, vesting, and repaying a member's debt before points become available.

Debt (from returns the member's points could not cover) is repaid by the member's next points as
they become available: a credit that is available at once, or a pending lot when it vests. The
repaid points leave the lot to the issuer's clawback account and the member's debt account comes
back towards zero against the alliance's receivable.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from services.points import accounts
from services.points.chain import Leg
from services.points.ledger import LedgerUnit, MemberState, Posted, post
from services.points.lots import LotRow, new_lot


def _repayment_legs(state: MemberState, lot: LotRow, repay: int) -> list[Leg]:
    return [
        Leg(accounts.issuer(lot.issuer_partner_id, "clawback"), repay, lot.id),
        Leg(accounts.member(state.member_id, "debt"), repay),
        Leg(accounts.RECEIVABLE, -repay),
    ]


def credit(
    unit: LedgerUnit,
    state: MemberState,
    *,
    kind: str,
    actor: str,
    issuer_partner_id: uuid.UUID | None,
    cost_per_point_minor: int,
    currency: str | None,
    amount: int,
    earned_at: datetime,
    vests_at: datetime,
    expires_at: datetime,
    source: str,
    purchase_id: uuid.UUID | None = None,
    reference: str | None = None,
    detail: dict | None = None,
    lot_id: uuid.UUID | None = None,
    transaction_id: uuid.UUID | None = None,
) -> tuple[LotRow, Posted]:
    """Issues `amount` new points from the issuer into a new lot of the member (pending or
    available), repaying debt first when they are available at once. Counts as earned."""
    lot = new_lot(
        unit,
        member_id=state.member_id,
        issuer_partner_id=issuer_partner_id,
        cost_per_point_minor=cost_per_point_minor,
        currency=currency,
        amount=amount,
        earned_at=earned_at,
        vests_at=vests_at,
        expires_at=expires_at,
        source=source,
        purchase_id=purchase_id,
        lot_id=lot_id,
    )
    legs = [Leg(accounts.issuer(issuer_partner_id, "issued"), -amount, lot.id)]
    repay = min(state.debt, amount) if lot.vested_at is not None else 0
    if repay:
        lot.remaining -= repay
        legs += _repayment_legs(state, lot, repay)
    if lot.remaining:
        legs.append(Leg(accounts.member(state.member_id, lot.bucket), lot.remaining, lot.id))
    posted = post(unit, state, kind=kind, legs=legs, actor=actor, reference=reference, detail=detail, transaction_id=transaction_id)
    lot.created_tx_id = posted.id
    state.lifetime_earned += amount
    return lot, posted


def vest(unit: LedgerUnit, state: MemberState, lot: LotRow, *, actor: str) -> Posted | None:
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
    return post(unit, state, kind="VEST", legs=legs, actor=actor, detail={"lot": str(lot.id), "repaid": repay} if repay else {"lot": str(lot.id)})
