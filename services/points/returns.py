"""Returns: claw back what a purchase earned, in proportion to the amount returned.

After returns totalling R of a purchase of amount A that earned E points, E × R / A points (rounded
down) have been clawed back in all; each return takes the difference, so the total never exceeds E
and a full return takes exactly E. The points come from the purchase's own lot first (pending or
available), then from the member's other available lots, first-expiring first; what the member does
not have becomes debt, repaid by their next credits before those become available.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select

from services.points import accounts, events
from services.points.answers import ReturnAnswer
from services.points.chain import Leg
from services.points.ledger import LedgerUnit, lock_member_of, post
from services.points.lots import LotRow, load_lots, spendable_lots, take_first_expiring
from services.points.models import purchases_t, returns_t
from shared.errors import InvalidInput, NotFound
from shared.ids import new_id


async def find_purchase(unit: LedgerUnit, partner_id: uuid.UUID, external_id: str) -> uuid.UUID:
    row = (
        await unit.execute(
            select(purchases_t.c.id).where(purchases_t.c.partner_id == partner_id, purchases_t.c.external_id == external_id)
        )
    ).first()
    if row is None:
        raise NotFound("no such purchase", partnerId=str(partner_id), externalId=external_id)
    return row.id


async def record_return(
    unit: LedgerUnit,
    *,
    partner_id: uuid.UUID,
    external_id: str,
    return_key: str,
    amount_minor: int,
    currency: str,
    actor: str,
) -> ReturnAnswer:
    purchase_id = await find_purchase(unit, partner_id, external_id)
    state = await lock_member_of(unit, purchases_t, purchase_id, "purchase")
    purchase = (await unit.execute(select(purchases_t).where(purchases_t.c.id == purchase_id))).one()  # current, under the lock
    if currency != purchase.currency:
        raise InvalidInput(f"the purchase was in {purchase.currency}", field="currency", expected=purchase.currency, got=currency)
    returnable = purchase.amount_minor - purchase.returned_minor
    if amount_minor > returnable:
        raise InvalidInput("cannot return more than is left of the purchase", field="amountMinor", returnable=returnable, requested=amount_minor)

    returned_after = purchase.returned_minor + amount_minor
    clawback = purchase.points_earned * returned_after // purchase.amount_minor - purchase.points_clawed_back
    legs: list[Leg] = []
    from_own = from_other = 0
    if clawback and purchase.lot_id is not None:
        own_lot = (await load_lots(unit, [purchase.lot_id]))[purchase.lot_id]
        if own_lot.expired_at is None and own_lot.remaining:
            from_own = min(own_lot.remaining, clawback)
            legs += _take(unit, state.member_id, own_lot, from_own)
    if clawback - from_own:
        others = await spendable_lots(unit, state.member_id, clawback - from_own, exclude=purchase.lot_id)
        for lot, part in take_first_expiring(others, clawback - from_own):
            legs += _take(unit, state.member_id, lot, part)
            from_other += part
    as_debt = clawback - from_own - from_other
    if as_debt:
        legs += [Leg(accounts.member(state.member_id, "debt"), -as_debt), Leg(accounts.RECEIVABLE, as_debt)]

    transaction_id = None
    if legs:
        transaction_id = post(
            unit, state, kind="RETURN", legs=legs, actor=actor, reference=external_id,
            detail={"purchase": str(purchase_id), "return": return_key, "amountMinor": amount_minor},
        ).id
    state.lifetime_earned -= clawback
    unit.update(purchases_t, {"id": purchase_id}, {"returned_minor": returned_after, "points_clawed_back": purchase.points_clawed_back + clawback})
    return_id = new_id()
    unit.insert(
        returns_t,
        {
            "id": return_id,
            "purchase_id": purchase_id,
            "return_key": return_key,
            "amount_minor": amount_minor,
            "points_clawed_back": clawback,
            "from_purchase_lot": from_own,
            "from_other_lots": from_other,
            "as_debt": as_debt,
            "transaction_id": transaction_id,
            "created_at": unit.now,
        },
    )
    await events.publish_many(
        unit.connection,
        events.PURCHASE_RETURNED,
        [
            {
                "memberId": str(state.member_id),
                "amountMinor": amount_minor,
                "currency": currency,
                "occurredAt": unit.now.isoformat(),
                "partnerId": str(partner_id),
                "externalId": external_id,
            }
        ],
    )
    return ReturnAnswer(
        return_id=return_id,
        purchase_id=purchase_id,
        amount_minor=amount_minor,
        points_clawed_back=clawback,
        from_purchase_lot=from_own,
        from_other_lots=from_other,
        as_debt=as_debt,
        transaction_id=transaction_id,
    )


def _take(unit: LedgerUnit, member_id: uuid.UUID, lot: LotRow, points: int) -> list[Leg]:
    lot.remaining -= points
    return [
        Leg(accounts.member(member_id, lot.bucket), -points, lot.id),
        Leg(accounts.issuer(lot.issuer_partner_id, "clawback"), points, lot.id),
    ]
