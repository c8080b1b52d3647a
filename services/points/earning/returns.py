"""Returns: claw back what a purchase earned, in proportion to the amount returned.

After returns totalling R of a purchase of amount A that earned E points, E × R / A points (rounded
down) have been clawed back in all; each return takes the difference, so the total never exceeds E
and a full return takes exactly E. The points come from the purchase's own lot first (pending or
available), then from the member's other available lots, first-expiring first; what the member does
not have becomes debt, repaid by their next credits before those become available.
"""

from __future__ import annotations

import uuid

from services.points import outbox
from services.points.earning import store
from services.points.earning.answers import ReturnAnswer
from services.points.earning.rows import ReturnRow
from services.points.ledger import accounts
from services.points.ledger import store as ledger
from services.points.ledger.chain import Leg
from services.points.ledger.rules import take_first_expiring
from services.points.ledger.rows import LotRow
from services.points.ledger.unit import LedgerUnit, post
from services.points.models import Purchase
from shared.errors import InvalidInput, NotFound
from shared.ids import new_id


async def record(
    unit: LedgerUnit,
    *,
    partner_id: uuid.UUID,
    external_id: str,
    return_key: str,
    amount_minor: int,
    currency: str,
    actor: str,
) -> ReturnAnswer:
    purchase_id = await store.find_purchase(unit, partner_id, external_id)
    if purchase_id is None:
        raise NotFound("no such purchase", partnerId=str(partner_id), externalId=external_id)
    state = await ledger.lock_member_of(unit, Purchase, purchase_id, "purchase")
    purchase = await store.load_purchase(unit, purchase_id)  # current, under the lock
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
        own_lot = (await ledger.load_lots(unit, [purchase.lot_id]))[purchase.lot_id]
        if own_lot.expired_at is None and own_lot.remaining:
            from_own = min(own_lot.remaining, clawback)
            legs += _take(state.member_id, own_lot, from_own)
    if clawback - from_own:
        others = await ledger.spendable_lots(unit, state.member_id, clawback - from_own, exclude=purchase.lot_id)
        for lot, part in take_first_expiring(others, clawback - from_own):
            legs += _take(state.member_id, lot, part)
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
    purchase.returned_minor, purchase.points_clawed_back = returned_after, purchase.points_clawed_back + clawback
    returned = unit.add(
        ReturnRow(
            id=new_id(),
            purchase_id=purchase_id,
            return_key=return_key,
            amount_minor=amount_minor,
            points_clawed_back=clawback,
            from_purchase_lot=from_own,
            from_other_lots=from_other,
            as_debt=as_debt,
            transaction_id=transaction_id,
            created_at=unit.now,
        )
    )
    await outbox.publish_many(
        unit.connection,
        outbox.PURCHASE_RETURNED,
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
        return_id=returned.id,
        purchase_id=purchase_id,
        amount_minor=amount_minor,
        points_clawed_back=clawback,
        from_purchase_lot=from_own,
        from_other_lots=from_other,
        as_debt=as_debt,
        transaction_id=transaction_id,
    )


def _take(member_id: uuid.UUID, lot: LotRow, points: int) -> list[Leg]:
    lot.remaining -= points
    return [
        Leg(accounts.member(member_id, lot.bucket), -points, lot.id),
        Leg(accounts.issuer(lot.issuer_partner_id, "clawback"), points, lot.id),
    ]
