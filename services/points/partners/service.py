"""Partner programmes' operations: operators register them; partners, operators and alliance
services read them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from services.points import access
from services.points.config import PointsSettings, get_points_settings
from services.points.partners import store
from services.points.partners.answers import PartnerProgram
from services.points.partners.rules import check_programme
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal
from shared.database import Database
from shared.errors import DomainError, NotFound


async def set_programme(
    db: Database,
    principal: Principal,
    *,
    partner_id: uuid.UUID,
    currency: str,
    name: str | None = None,
    earning_enabled: bool = True,
    earn_points: int = 1,
    earn_per_minor: int = 100,
    return_window_days: int | None = None,
    expiry_months: int | None = None,
    cost_per_point_minor: int = 0,
    max_purchase_minor: int | None = None,
    max_points_per_member_day: int | None = None,
    max_purchase_age_days: int | None = None,
    settings: PointsSettings | None = None,
) -> PartnerProgram:
    """Registers or changes a partner's programme (operators; points itself for its demo data).
    Changes apply to future purchases; lots already credited keep their terms. The caps (None:
    the alliance defaults from settings) bound what one purchase may be and earn."""
    access.require_operator_or_system(principal)
    settings = settings or get_points_settings()
    programme = PartnerProgram(
        id=partner_id,
        name=name,
        currency=currency,
        earning_enabled=earning_enabled,
        earn_points=earn_points,
        earn_per_minor=earn_per_minor,
        return_window_days=settings.default_return_window_days if return_window_days is None else return_window_days,
        expiry_months=settings.default_expiry_months if expiry_months is None else expiry_months,
        cost_per_point_minor=cost_per_point_minor,
        max_purchase_minor=max_purchase_minor,
        max_points_per_member_day=max_points_per_member_day,
        max_purchase_age_days=max_purchase_age_days,
    )
    check_programme(
        settings,
        currency=programme.currency,
        name=programme.name,
        earn_points=programme.earn_points,
        earn_per_minor=programme.earn_per_minor,
        return_window_days=programme.return_window_days,
        expiry_months=programme.expiry_months,
        cost_per_point_minor=programme.cost_per_point_minor,
        max_purchase_minor=programme.max_purchase_minor,
        max_points_per_member_day=programme.max_points_per_member_day,
        max_purchase_age_days=programme.max_purchase_age_days,
    )
    return await store.upsert(db, programme)


async def programme(db: Database, principal: Principal, partner_id: uuid.UUID) -> PartnerProgram:
    """The partner's programme (the partner itself, operators, services); NOT_FOUND unregistered."""
    access.require_partner_reader(principal, partner_id)
    found = await store.programmes(db, [partner_id])
    if partner_id not in found:
        raise NotFound("this partner is not registered with the points programme", partnerId=str(partner_id))
    return found[partner_id]


async def programmes_of(
    db: Database, principal: Principal, partner_ids: Sequence[uuid.UUID]
) -> list[PartnerProgram | None | DomainError]:
    """One per id, in order (for a DataLoader): the programme, None if the partner has none, or
    the error that keeps this caller from seeing it. One query for the batch."""
    refused: dict[uuid.UUID, DomainError] = {}
    for partner_id in set(partner_ids):
        try:
            access.require_partner_reader(principal, partner_id)
        except DomainError as error:
            refused[partner_id] = error
    found = await store.programmes(db, [i for i in partner_ids if i not in refused])
    return [refused[i] if i in refused else found.get(i) for i in partner_ids]


def visible_partner(principal: Principal, partner_id: uuid.UUID) -> uuid.UUID:
    """The partner's id if this caller may see the partner's points figures and programme."""
    access.require_partner_reader(principal, partner_id)
    return partner_id


async def any_registered(db: Database, principal: Principal) -> bool:
    access.require_operator_or_system(principal)
    return await store.count(db) > 0


async def learn_partner_status(
    session: AsyncSession, principal: Principal, *, partner_id: uuid.UUID, status: str, roles: Sequence[str], version: int
) -> None:
    """The partner registry's word on a partner (from its PartnerStatusChanged events): points itself only."""
    access.require_system(principal)
    await store.learn_registry_status(session, partner_id, status, roles, version)

