"""Settlement: what the issuers of redeemed points owe the beneficiary, and statements netting it.

A capture books one line per consumed lot: the lot's issuer owes the beneficiary its pro-rata share
of the settlement value (shares are whole minor units that add up to the value exactly). A refund
books negative lines; cumulative rounding makes a full refund reverse a line exactly.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, func, or_, select

from services.points.models import settlements_t
from shared.database import Database


def split_pro_rata(total: int, weights: Sequence[int]) -> list[int]:
    """Integer shares of `total` proportional to `weights`, summing to `total` exactly (largest
    remainders get the leftover units; ties go to the earlier weight)."""
    if total < 0 or any(w < 0 for w in weights):
        raise ValueError("total and weights must not be negative")
    weight_sum = sum(weights)
    if weight_sum == 0:
        if total:
            raise ValueError("cannot split a non-zero total over zero weights")
        return [0] * len(weights)
    shares = [total * w // weight_sum for w in weights]
    remainders = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % weight_sum), i))
    for i in remainders[: total - sum(shares)]:
        shares[i] += 1
    return shares


def reversal(settled: int, captured: int, refunded_before: int, refunded_after: int) -> int:
    """How much of a lot's settled value a refund reverses: the share of what is refunded after,
    minus what earlier refunds reversed (so rounding never drifts, and all of it comes back)."""
    return settled * refunded_after // captured - settled * refunded_before // captured


@dataclass(frozen=True, slots=True)
class StatementLine:
    counterparty_id: uuid.UUID | None  # None: the alliance (alliance-funded lots)
    currency: str
    points_redeemed_by_counterparty: int  # points the partner's own lots lost at the counterparty
    payable_minor: int  # what the partner owes the counterparty (its lots redeemed there)
    points_redeemed_at_partner: int  # points of the counterparty's lots redeemed at the partner
    receivable_minor: int  # what the counterparty owes the partner
    net_minor: int  # receivable - payable: positive, the counterparty pays the partner


async def statement(db: Database, partner_id: uuid.UUID, start: datetime, end: datetime) -> list[StatementLine]:
    """Lines booked in [start, end) that concern the partner, netted per counterparty and currency.
    A partner's own points redeemed at itself settle nothing and are left out."""
    s = settlements_t
    issuer, beneficiary = s.c.issuer_partner_id, s.c.beneficiary_partner_id
    as_issuer = and_(issuer == partner_id, beneficiary != partner_id)
    as_beneficiary = and_(beneficiary == partner_id, or_(issuer.is_(None), issuer != partner_id))
    # The other side of each line (NULL for alliance-funded lots redeemed at the partner).
    counterparty = case((issuer == partner_id, beneficiary), else_=issuer)
    query = (
        select(
            counterparty.label("counterparty"),
            s.c.currency,
            func.coalesce(func.sum(s.c.points).filter(as_issuer), 0).label("out_points"),
            func.coalesce(func.sum(s.c.amount_minor).filter(as_issuer), 0).label("payable"),
            func.coalesce(func.sum(s.c.points).filter(as_beneficiary), 0).label("in_points"),
            func.coalesce(func.sum(s.c.amount_minor).filter(as_beneficiary), 0).label("receivable"),
        )
        .where(or_(as_issuer, as_beneficiary), s.c.created_at >= start, s.c.created_at < end)
        .group_by(counterparty, s.c.currency)
    )
    async with db.session() as session:
        rows = (await session.exec(query)).all()  # type: ignore[call-overload]
    lines = [
        StatementLine(
            counterparty_id=row.counterparty,
            currency=row.currency,
            points_redeemed_by_counterparty=int(row.out_points),
            payable_minor=int(row.payable),
            points_redeemed_at_partner=int(row.in_points),
            receivable_minor=int(row.receivable),
            net_minor=int(row.receivable) - int(row.payable),
        )
        for row in rows
    ]
    return sorted(lines, key=lambda line: (str(line.counterparty_id), line.currency))
