"""The partners table's SQL: the only place that queries it. Functions run in the caller's session
(and so its transaction); rows come back as `models.Partner`."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlmodel.ext.asyncio.session import AsyncSession

from services.benefits.models import Partner
from services.benefits.partners.rules import PartnerRole, PartnerStatus

PARTNERS: sa.Table = Partner.__table__  # type: ignore[attr-defined]


def _row(mapping: Mapping[str, Any]) -> Partner:
    return Partner(**mapping)


async def insert_partner(session: AsyncSession, values: dict[str, Any]) -> Partner | None:
    """The new partner, or None when its id is taken."""
    statement = (
        insert(PARTNERS)
        .values(**values, created_at=sa.func.now(), updated_at=sa.func.now(), version=1)
        .on_conflict_do_nothing(index_elements=["id"])
        .returning(*PARTNERS.c)
    )
    row = (await session.exec(statement)).first()  # type: ignore[call-overload]
    return _row(row._mapping) if row is not None else None


async def load(session: AsyncSession, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Partner]:
    wanted = list(set(ids))
    if not wanted:
        return {}
    rows = await session.exec(sa.select(PARTNERS).where(PARTNERS.c.id.in_(wanted)))  # type: ignore[call-overload]
    return {row.id: _row(row._mapping) for row in rows}


async def lock(session: AsyncSession, partner_id: uuid.UUID) -> Partner | None:
    """The partner, locked until the transaction ends: changes of one partner take turns."""
    statement = sa.select(PARTNERS).where(PARTNERS.c.id == partner_id).with_for_update()
    row = (await session.exec(statement)).first()  # type: ignore[call-overload]
    return _row(row._mapping) if row is not None else None


async def share_lock(session: AsyncSession, partner_id: uuid.UUID) -> Partner | None:
    """The partner, held against changes (not against other readers) until the transaction ends."""
    statement = sa.select(PARTNERS).where(PARTNERS.c.id == partner_id).with_for_update(read=True)
    row = (await session.exec(statement)).first()  # type: ignore[call-overload]
    return _row(row._mapping) if row is not None else None


async def update(session: AsyncSession, partner_id: uuid.UUID, values: dict[str, Any]) -> Partner:
    """Writes `values` and bumps the version; the caller holds the row's lock."""
    statement = (
        sa.update(PARTNERS)
        .where(PARTNERS.c.id == partner_id)
        .values(**values, version=PARTNERS.c.version + 1, updated_at=sa.func.now())
        .returning(*PARTNERS.c)
    )
    row = (await session.exec(statement)).one()  # type: ignore[call-overload]
    return _row(row._mapping)


async def page(
    session: AsyncSession,
    *,
    status: PartnerStatus | None,
    role: PartnerRole | None,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[Partner]:
    """Oldest first, by (created_at, id)."""
    statement = sa.select(PARTNERS)
    if status is not None:
        statement = statement.where(PARTNERS.c.status == status.value)
    if role is not None:
        statement = statement.where(sa.literal(role.value) == sa.any_(PARTNERS.c.roles))
    if after is not None:
        statement = statement.where(sa.tuple_(PARTNERS.c.created_at, PARTNERS.c.id) > sa.tuple_(*after))
    statement = statement.order_by(PARTNERS.c.created_at, PARTNERS.c.id).limit(limit)
    return [_row(row._mapping) for row in await session.exec(statement)]  # type: ignore[call-overload]


async def any_partner(session: AsyncSession) -> bool:
    return (await session.exec(sa.select(sa.exists().select_from(PARTNERS)))).scalar_one()  # type: ignore[call-overload]


async def existing_ids(session: AsyncSession, ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    wanted = list(set(ids))
    if not wanted:
        return set()
    rows = await session.exec(sa.select(PARTNERS.c.id).where(PARTNERS.c.id.in_(wanted)))  # type: ignore[call-overload]
    return {row.id for row in rows}


async def with_webhook_url(session: AsyncSession, ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    """The partners among `ids` that have a webhook endpoint (the others take no webhooks)."""
    wanted = list(set(ids))
    if not wanted:
        return set()
    rows = await session.exec(  # type: ignore[call-overload]
        sa.select(PARTNERS.c.id).where(PARTNERS.c.id.in_(wanted), PARTNERS.c.webhook_url.is_not(None)))
    return {row.id for row in rows}


def redeemable_condition(partner_id: sa.ColumnElement[uuid.UUID]) -> sa.ColumnElement[bool]:
    """SQL true while the partner `partner_id` may be redeemed at (ACTIVE, with the REDEMPTION role),
    for other concepts' queries to embed (a catalogue filtered to what can be redeemed now)."""
    partner = PARTNERS.alias("redeemable_partner")  # its own name: the outer query may read partners too
    return sa.exists().where(
        partner.c.id == partner_id,
        partner.c.status == PartnerStatus.ACTIVE.value,
        sa.literal(PartnerRole.REDEMPTION.value) == sa.any_(partner.c.roles),
    )
