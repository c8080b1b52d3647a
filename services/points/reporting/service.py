"""Reporting's reads, as the GraphQL layer calls them: each decides access from the caller's
principal. Batch reads (for DataLoaders) answer one value per key, in order, with the error that
keeps this caller from a key in its place, and query once for the keys it may see."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TypeVar

from services.points import access
from services.points.ledger import store as ledger
from services.points.ledger.answers import Balances
from services.points.ledger.chain import Transaction
from services.points.reporting import store
from services.points.reporting.answers import Expiring, LotAnswer, PartnerFigures
from services.points.reporting.rules import LOT_CURSOR, MAX_EXPIRING_DAYS, TRANSACTION_CURSOR, lot_answer
from shared.auth import Principal
from shared.database import Database
from shared.errors import DomainError, InvalidInput
from shared.pagination import Page, PageRequest
from shared.timeutil import utcnow

K = TypeVar("K")


def _refusals(keys: Sequence[K], check: Callable[[K], None]) -> dict[K, DomainError]:
    refused: dict[K, DomainError] = {}
    for key in set(keys):
        try:
            check(key)
        except DomainError as error:
            refused[key] = error
    return refused


async def balances_of(db: Database, principal: Principal, member_ids: Sequence[uuid.UUID]) -> list[Balances | DomainError]:
    """Each member's balances (zero for a member points has not seen): to the member themself,
    staff and alliance services."""
    refused = _refusals(member_ids, lambda member_id: access.require_member_reader(principal, member_id))
    found = await ledger.balances(db, [m for m in member_ids if m not in refused])
    return [refused[m] if m in refused else found.get(m, Balances(m)) for m in member_ids]


async def expiring_soon(
    db: Database, principal: Principal, member_id: uuid.UUID, *, within_days: int, now: datetime | None = None
) -> list[Expiring]:
    access.require_member_reader(principal, member_id)
    if not 1 <= within_days <= MAX_EXPIRING_DAYS:
        raise InvalidInput("withinDays is 1 to 366", argument="withinDays")
    return await store.expiring(db, member_id, within=timedelta(days=within_days), now=now or utcnow())


async def lots_page(
    db: Database, principal: Principal, member_id: uuid.UUID, *, first: int | None, after: str | None, include_closed: bool
) -> Page[LotAnswer]:
    """The member's lots, newest first; closed (spent, expired) ones only with `include_closed`."""
    access.require_member_reader(principal, member_id)
    request = PageRequest(first, after, cursor_types=LOT_CURSOR)
    page = await store.lots_page(db, member_id, request, include_closed=include_closed)
    return replace(page, rows=[lot_answer(lot) for lot in page.rows])  # type: ignore[arg-type]


async def lots_of(db: Database, principal: Principal, lot_ids: Sequence[uuid.UUID]) -> list[LotAnswer | None | DomainError]:
    """The lots (None: no such lot), each to whoever may read its member's points."""
    found = await store.lots(db, lot_ids)
    answers: list[LotAnswer | None | DomainError] = []
    for lot_id in lot_ids:
        lot = found.get(lot_id)
        try:
            if lot is not None:
                access.require_member_reader(principal, lot.member_id)
            answers.append(lot_answer(lot) if lot else None)
        except DomainError as error:
            answers.append(error)
    return answers


async def transactions_page(
    db: Database, principal: Principal, member_id: uuid.UUID, *, first: int | None, after: str | None
) -> Page[Transaction]:
    """The member's ledger transactions, newest first, with their postings."""
    access.require_member_reader(principal, member_id)
    request = PageRequest(first, after, cursor_types=TRANSACTION_CURSOR)
    return await store.transactions_page(db, member_id, request)


async def partner_figures(db: Database, principal: Principal, partner_ids: Sequence[uuid.UUID]) -> list[PartnerFigures | DomainError]:
    """Each partner's points figures: to the partner itself, operators and alliance services."""
    refused = _refusals(partner_ids, lambda partner_id: access.require_partner_reader(principal, partner_id))
    allowed = [p for p in partner_ids if p not in refused]
    found = {f.partner_id: f for f in await store.partner_figures(db, allowed)} if allowed else {}
    return [refused[p] if p in refused else found[p] for p in partner_ids]
