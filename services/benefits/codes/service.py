"""Reading code pools (stock, codes, usage) and the owner's low-stock threshold.

Codes are shown in clear only to the member who holds them; everyone else who may see a code
(its partner, staff) sees it masked. Uploads and generation are in `ingest`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any


from services.benefits import access
from services.benefits.codes import keys, lowstock, rules, store
from services.benefits.codes.answers import CodeAnswer, StockAnswer, UsageAnswer
from services.benefits.models import CODE_STATES
from shared.auth.principals import Principal
from shared.database import Database
from shared.errors import DomainError, Forbidden, InvalidInput, NotFound, Unauthenticated
from shared.pagination import Page, PageRequest, paginate
from shared.timeutil import utcnow

MAX_THRESHOLD = 10_000_000


async def stocks(db: Database, principal: Principal, benefit_ids: Sequence[uuid.UUID]) -> list[StockAnswer | DomainError]:
    """`Benefit.stock` for a batch of benefits (one answer or error per id, in order)."""
    async with db.session() as session:
        rows = {row.id: row for row in await store.benefits(session, benefit_ids)}
        counts = await store.counts_by_state(session, [r.id for r in rows.values() if r.delivery == "CODE"])
    answers: list[StockAnswer | DomainError] = []
    for benefit_id in benefit_ids:
        row = rows.get(benefit_id)
        if principal.is_anonymous:
            answers.append(Unauthenticated("authentication required: send an Authorization: Bearer <token> header"))
        elif row is None:
            answers.append(NotFound("no such benefit", benefitId=str(benefit_id)))
        elif not access.may_see_benefit(principal, row.partner_id, row.status):
            answers.append(Forbidden("this benefit is not in the catalogue; only its partner and staff may see it"))
        else:
            answers.append(_stock(principal, row, counts.get(row.id, {})))
    return answers


def _stock(principal: Principal, row: Any, counts: dict[str, int]) -> StockAnswer:
    if row.delivery == "CODE":
        stock = rules.code_stock(counts)
    else:
        stock = rules.counter_stock(row.stock_total, row.stock_reserved, row.stock_issued)
    manages = access.is_partner_manager(principal, row.partner_id) or principal.is_staff
    return StockAnswer(
        benefit_id=row.id, available=stock.available, reserved=stock.reserved, issued=stock.issued, used=stock.used,
        voided=stock.voided, expired=stock.expired, total=stock.total,
        low_stock_threshold=row.low_stock_threshold if manages else None,
        low_stock_alerted=row.low_stock_alerted if manages else None,
    )


async def set_low_stock_threshold(db: Database, principal: Principal, *, benefit_id: uuid.UUID, threshold: int | None) -> StockAnswer:
    """The owner (or an operator) sets when `benefits.LowStock` fires; None turns it off."""
    if threshold is not None and (isinstance(threshold, bool) or not 1 <= threshold <= MAX_THRESHOLD):
        raise InvalidInput(f"threshold must be between 1 and {MAX_THRESHOLD}, or null for no alerts", field="threshold")

    async def work(session: Any) -> None:
        row = await store.benefit(session, benefit_id)
        if row is None:
            raise NotFound("no such benefit", benefitId=str(benefit_id))
        access.require_partner_manager(principal, row.partner_id)
        if threshold is not None and row.delivery == "RECHARGE" and row.stock_total is None:
            raise InvalidInput("this benefit's stock is unlimited, so it cannot run low", field="threshold")
        await lowstock.set_threshold(session, benefit_id, threshold, utcnow())

    await db.run_transaction(work)
    (answer,) = await stocks(db, principal, [benefit_id])
    if isinstance(answer, DomainError):
        raise answer
    return answer


# --- codes -----------------------------------------------------------------------------------------


async def member_codes(
    db: Database, principal: Principal, *, member_id: uuid.UUID, first: int | None = None, after: str | None = None
) -> Page[CodeAnswer]:
    """A member's codes, newest first: in clear for the member, masked for staff."""
    clear = access.require_member_codes_reader(principal, member_id)
    request = PageRequest(first, after, cursor_types=(uuid.UUID,))
    after_id = request.after_values[0] if request.after_values else None
    async with db.session() as session:
        rows = await store.codes_of_member(session, member_id, after=after_id, limit=request.fetch_limit)  # type: ignore[arg-type]
        pool_keys = keys.PoolKeys(await store.data_keys(session, list({r.benefit_id for r in rows})) if clear else [])
    return paginate([_code(row, pool_keys if clear else None) for row in rows], request, key=lambda c: (c.id,))


async def benefit_codes(
    db: Database, principal: Principal, *, benefit_id: uuid.UUID, state: str | None = None,
    first: int | None = None, after: str | None = None,
) -> Page[CodeAnswer]:
    """A pool's codes in upload order, masked: for its partner and staff."""
    if state is not None and state not in CODE_STATES:
        raise InvalidInput(f"state must be one of {', '.join(CODE_STATES)}", field="state")
    request = PageRequest(first, after, cursor_types=(uuid.UUID,))
    after_id = request.after_values[0] if request.after_values else None
    async with db.session() as session:
        benefit = await store.benefit(session, benefit_id)
        if benefit is None:
            raise NotFound("no such benefit", benefitId=str(benefit_id))
        access.require_code_reader(principal, benefit.partner_id)
        rows = await store.codes_of_benefit(session, benefit_id, state=state, after=after_id,  # type: ignore[arg-type]
                                            limit=request.fetch_limit)
    return paginate([_code(row, None) for row in rows], request, key=lambda c: (c.id,))


def _code(row: Any, pool_keys: keys.PoolKeys | None) -> CodeAnswer:
    shown = rules.masked(row.last4)
    if pool_keys is not None:
        shown = pool_keys.decrypt(row.benefit_id, row.id, bytes(row.code_encrypted))
    return CodeAnswer(
        id=row.id, benefit_id=row.benefit_id, state=row.state, code=shown, masked_code=rules.masked(row.last4),
        clear=pool_keys is not None, member_id=row.member_id, issued_at=row.issued_at, valid_until=row.valid_until,
        used_at=row.used_at, voided_at=row.voided_at,
    )


async def usage(db: Database, principal: Principal, *, partner_id: uuid.UUID) -> list[UsageAnswer]:
    """Per CODE benefit of a partner: codes issued and used (for usage rates)."""
    access.require_partner_reader(principal, partner_id)
    async with db.session() as session:
        rows = await store.usage(session, partner_id)
    return [UsageAnswer(benefit_id=row.benefit_id, issued=row.issued, used=row.used) for row in rows]
