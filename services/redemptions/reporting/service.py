"""Operators' figures over redemptions in a period (staff: operators and customer service).

Only what redemptions owns is answered here. The rest of the operators' figures are answered by the
services that own them, and composed by asking for them in the same gateway document (see the
schema's description of `redemptionFigures`): the active members behind the redemption rate
(members' `memberCount`), budget burn (benefits' `Budget` on each benefit and partner) and each
partner's net settlement position across earning liability and redemptions (points'
`settlementStatement` and `Partner.points`).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime

from shared.auth.principals import Principal
from shared.database import Database

from services.redemptions import access
from services.redemptions.reporting import rules, store
from services.redemptions.reporting.answers import BenefitFigures, Figures, PartnerFigures, Settlement


async def figures(db: Database, principal: Principal, start: datetime, end: datetime) -> Figures:
    access.require_staff(principal)
    start, end = rules.period(start, end)
    async with db.transaction("REPEATABLE READ") as session:
        scanned = await store.scan(session, start, end)
    t = scanned.totals
    return Figures(
        start=start, end=end, started=t.started, completed=t.completed, failed=t.failed, refunded=t.refunded,
        needing_attention=t.needing_attention, members_redeemed=t.members_redeemed, points_redeemed=int(t.points_redeemed),
        points_refunded=int(t.points_refunded), refund_rate=rules.rate(t.refunded, t.completed),
        partners=_partners(scanned.by_partner),
        benefits=tuple(BenefitFigures(row.benefit_id, row.partner_id, row.completed, row.codes_issued, row.codes_used, row.codes_voided,
                                      rules.rate(row.codes_used, row.codes_issued)) for row in scanned.by_benefit),
    )


def _partners(rows: list) -> tuple[PartnerFigures, ...]:
    """One partner's rows (one per settlement currency) summed; most points redeemed first."""
    grouped: dict[uuid.UUID, list] = defaultdict(list)
    for row in rows:
        grouped[row.partner_id].append(row)
    found = [
        PartnerFigures(
            partner_id=partner_id, completed=sum(r.completed for r in group), points_redeemed=sum(int(r.points_redeemed) for r in group),
            refunds=sum(r.refunds for r in group), points_refunded=sum(int(r.points_refunded) for r in group),
            settlement=tuple(Settlement(r.currency, int(r.settlement_minor), int(r.refunded_minor))
                             for r in sorted(group, key=lambda r: r.currency or "") if r.currency is not None),
        )
        for partner_id, group in grouped.items()
    ]
    return tuple(sorted(found, key=lambda p: (-p.points_redeemed, str(p.partner_id))))
