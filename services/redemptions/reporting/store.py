"""The figures' SQL: three aggregate scans of the period's redemptions.

Each event counts in the period it happened in: a redemption started (created_at), completed
(completed_at), failed (failed_at, still FAILED) or refunded (refunded_at) in [start, end). Code use
is read off the redemptions completed in the period, as their codes stand now (a cohort: of the
codes issued then, how many have been used since).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

_IN = "{col} >= :start AND {col} < :end"
STARTED, COMPLETED = _IN.format(col="created_at"), _IN.format(col="completed_at")
FAILED, REFUNDED = f"status = 'FAILED' AND {_IN.format(col='failed_at')}", _IN.format(col="refunded_at")
# Rows that may count: each arm has its index (a bitmap OR of four ranges), so only the period's
# redemptions are read, however long the table's history.
_TOUCHED = f"({STARTED} OR {COMPLETED} OR {_IN.format(col='failed_at')} OR {REFUNDED})"

TOTALS = sa.text(f"""
SELECT count(*) FILTER (WHERE {STARTED}) AS started,
       count(*) FILTER (WHERE {COMPLETED}) AS completed,
       count(*) FILTER (WHERE {FAILED}) AS failed,
       count(*) FILTER (WHERE {REFUNDED}) AS refunded,
       count(*) FILTER (WHERE {STARTED} AND status = 'NEEDS_ATTENTION') AS needing_attention,
       count(DISTINCT member_id) FILTER (WHERE {COMPLETED}) AS members_redeemed,
       coalesce(sum(points) FILTER (WHERE {COMPLETED}), 0) AS points_redeemed,
       coalesce(sum(points) FILTER (WHERE {REFUNDED}), 0) AS points_refunded
FROM redemptions.redemptions WHERE {_TOUCHED}
""")

BY_PARTNER = sa.text(f"""
SELECT partner_id, currency,
       count(*) FILTER (WHERE {COMPLETED}) AS completed,
       coalesce(sum(points) FILTER (WHERE {COMPLETED}), 0) AS points_redeemed,
       coalesce(sum(settlement_minor) FILTER (WHERE {COMPLETED}), 0) AS settlement_minor,
       count(*) FILTER (WHERE {REFUNDED}) AS refunds,
       coalesce(sum(points) FILTER (WHERE {REFUNDED}), 0) AS points_refunded,
       coalesce(sum(settlement_minor) FILTER (WHERE {REFUNDED}), 0) AS refunded_minor
FROM redemptions.redemptions WHERE {_TOUCHED} AND ({COMPLETED} OR {REFUNDED})
GROUP BY partner_id, currency
""")

BY_BENEFIT = sa.text(f"""
SELECT benefit_id, partner_id, count(*) AS completed,
       count(*) FILTER (WHERE code_state IS NOT NULL) AS codes_issued,
       count(*) FILTER (WHERE code_state = 'USED') AS codes_used,
       count(*) FILTER (WHERE code_state = 'VOIDED') AS codes_voided
FROM redemptions.redemptions WHERE {_TOUCHED} AND {COMPLETED}
GROUP BY benefit_id, partner_id
ORDER BY count(*) DESC, benefit_id
""")


@dataclass(frozen=True, slots=True)
class Scanned:
    totals: Any
    by_partner: list[Any]
    by_benefit: list[Any]


async def scan(session: AsyncSession, start: datetime, end: datetime) -> Scanned:
    """The three aggregates, read in one snapshot (the caller's REPEATABLE READ transaction)."""
    params = {"start": start, "end": end}

    async def rows(statement: sa.TextClause) -> list[Any]:
        return list((await session.exec(statement, params=params)).all())  # type: ignore[call-overload]

    (totals,) = await rows(TOTALS)
    return Scanned(totals, await rows(BY_PARTNER), await rows(BY_BENEFIT))

