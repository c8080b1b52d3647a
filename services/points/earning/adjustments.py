"""Operator adjustments: credit or debit a member's points with a reason, on the audited ledger.

The transaction records who did it and why (`actor`, `detail.reason`) and is hash-chained like
every other. A credit is a new lot, available at once, issued by the named partner (at its cost
per point and expiry) or by the alliance itself; it repays debt first like any credit. A debit
takes available points first-expiring first and never makes debt: it needs the points to exist.
"""

from __future__ import annotations

import uuid

from services.points.config import PointsSettings
from services.points.earning.answers import AdjustAnswer
from services.points.ledger import accounts
from services.points.ledger import store as ledger
from services.points.ledger.chain import Leg
from services.points.ledger.lots import credit
from services.points.ledger.rules import take_first_expiring
from services.points.ledger.rows import ADJUSTMENT, Credit
from services.points.ledger.status import closed
from services.points.ledger.unit import LedgerUnit, post
from services.points.partners.answers import PartnerProgram
from shared.errors import InsufficientPoints
from shared.timeutil import add_months


async def adjust(
    unit: LedgerUnit,
    *,
    member_id: uuid.UUID,
    points: int,
    reason: str,
    issuer: PartnerProgram | None,
    actor: str,
    settings: PointsSettings,
) -> AdjustAnswer:
    state = await ledger.lock_member(unit, member_id)
    detail = {"reason": reason}
    if points > 0:
        refusal = closed(state)  # an erased member's account takes no new points
        if refusal is not None:
            raise refusal
        months = issuer.expiry_months if issuer else settings.default_expiry_months
        lot, posted = credit(
            unit,
            state,
            Credit(
                issuer_partner_id=issuer.id if issuer else None,
                cost_per_point_minor=issuer.cost_per_point_minor if issuer else 0,
                currency=issuer.currency if issuer else None,
                amount=points,
                earned_at=unit.now,
                vests_at=unit.now,
                expires_at=add_months(unit.now, months),
                source=ADJUSTMENT,
            ),
            kind="ADJUST",
            actor=actor,
            detail=detail,
        )
        return AdjustAnswer(member_id=member_id, points=points, transaction_id=posted.id, lot_id=lot.id)

    wanted = -points
    taken = take_first_expiring(await ledger.spendable_lots(unit, member_id, wanted), wanted)
    if sum(part for _, part in taken) < wanted:
        raise InsufficientPoints("the member does not have that many available points", available=state.available, requested=wanted)
    legs: list[Leg] = []
    for lot, part in taken:
        lot.remaining -= part
        legs += [
            Leg(accounts.member(member_id, "available"), -part, lot.id),
            Leg(accounts.issuer(lot.issuer_partner_id, "adjusted"), part, lot.id),
        ]
    posted = post(unit, state, kind="ADJUST", legs=legs, actor=actor, detail=detail)
    state.lifetime_earned -= wanted
    return AdjustAnswer(member_id=member_id, points=points, transaction_id=posted.id, lot_id=None)
