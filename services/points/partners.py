"""Partner programmes: what a partner's points earn and cost, set by operators.

The partner itself belongs to the benefits service; here operators register the partner's id with
its earning rate, return window, expiry and the cost per point the partner pays when its points
are redeemed. A partner must be registered to record purchases or to be paid for redemptions.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.points.config import PointsSettings
from shared.database import Prepared
from services.points.models import partners_t
from shared.database import Database
from shared.errors import InvalidInput, NotFound
from shared.timeutil import utcnow

_CURRENCY = re.compile(r"^[A-Z]{3}$")
MAX_RATE = 1_000_000


@dataclass(frozen=True, slots=True)
class PartnerProgram:
    id: uuid.UUID
    name: str | None
    currency: str
    earning_enabled: bool
    earn_points: int
    earn_per_minor: int
    return_window_days: int
    expiry_months: int
    cost_per_point_minor: int


_COLUMNS = [partners_t.c[name] for name in PartnerProgram.__dataclass_fields__]
_BY_IDS = select(*_COLUMNS).where(partners_t.c.id.in_(bindparam("ids", expanding=True)))
BY_ID = Prepared(select(*_COLUMNS).where(partners_t.c.id == bindparam("partner_id")))


def check_currency(currency: str, field: str = "currency") -> str:
    if not isinstance(currency, str) or not _CURRENCY.match(currency):
        raise InvalidInput("a currency is an ISO 4217 code of three capital letters", field=field)
    return currency


async def load_partners(connection: AsyncConnection, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, PartnerProgram]:
    wanted = list(set(ids))
    if not wanted:
        return {}
    rows = await connection.execute(_BY_IDS, {"ids": wanted})
    return {row.id: PartnerProgram(**row._mapping) for row in rows}


async def get_partner(db: Database, partner_id: uuid.UUID) -> PartnerProgram:
    async with db.engine.connect() as connection:
        found = await load_partners(connection, [partner_id])
    if partner_id not in found:
        raise NotFound("this partner is not registered with the points programme", partnerId=str(partner_id))
    return found[partner_id]


async def set_partner(
    db: Database,
    settings: PointsSettings,
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
) -> PartnerProgram:
    """Registers or updates a partner's programme (operators). Changes apply to future purchases;
    lots already credited keep the terms they were credited under."""
    check_currency(currency)
    window = settings.default_return_window_days if return_window_days is None else return_window_days
    months = settings.default_expiry_months if expiry_months is None else expiry_months
    if name is not None and len(name) > 100:
        raise InvalidInput("name is longer than 100 characters", field="name")
    if not 0 <= earn_points <= MAX_RATE or not 1 <= earn_per_minor <= MAX_RATE:
        raise InvalidInput(f"the rate is earnPoints (0..{MAX_RATE}) per earnPerMinor (1..{MAX_RATE}) minor units", field="earnPoints")
    if not 0 <= window <= 365:
        raise InvalidInput("the return window is 0 to 365 days", field="returnWindowDays")
    if months < settings.min_expiry_months or months > 120:
        raise InvalidInput(
            f"points expire {settings.min_expiry_months} to 120 months after they are earned",
            field="expiryMonths",
            minimum=settings.min_expiry_months,
        )
    if not 0 <= cost_per_point_minor <= MAX_RATE:
        raise InvalidInput("costPerPointMinor must be between 0 and 1000000", field="costPerPointMinor")
    values = {
        "name": name,
        "currency": currency,
        "earning_enabled": earning_enabled,
        "earn_points": earn_points,
        "earn_per_minor": earn_per_minor,
        "return_window_days": window,
        "expiry_months": months,
        "cost_per_point_minor": cost_per_point_minor,
        "updated_at": utcnow(),
    }
    statement = (
        insert(partners_t)
        .values(id=partner_id, **values)
        .on_conflict_do_update(index_elements=["id"], set_=values)
        .returning(*_COLUMNS)
    )
    async with db.engine.begin() as connection:
        row = (await connection.execute(statement)).one()
    return PartnerProgram(**row._mapping)
