"""The partners table's SQL. Earning and spending read programmes here inside their operations."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

from sqlalchemy import Uuid, any_, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY, insert

from sqlalchemy.ext.asyncio import AsyncSession

from services.points.models import Partner, PartnerRegistryStatus
from services.points.partners.answers import PartnerProgram
from shared.database import Database, Executor, Prepared
from shared.timeutil import utcnow

_partners = Partner.__table__
_COLUMNS = [_partners.c[name] for name in PartnerProgram.__dataclass_fields__]
_BY_ID = Prepared(select(*_COLUMNS).where(_partners.c.id == bindparam("partner_id")))
_BY_IDS = Prepared(select(*_COLUMNS).where(_partners.c.id == any_(bindparam("ids", type_=ARRAY(Uuid)))))


async def programme_in(executor: Executor, partner_id: uuid.UUID) -> PartnerProgram | None:
    """The partner's programme, read in the caller's transaction."""
    row = (await executor.execute(_BY_ID, {"partner_id": partner_id})).first()
    return PartnerProgram(**row._mapping) if row else None


async def programmes(db: Database, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, PartnerProgram]:
    """The programmes of the registered partners among `ids`, in one query."""
    wanted = list(set(ids))
    if not wanted:
        return {}
    async with db.engine.connect() as connection:
        rows = await connection.execute(_BY_IDS.statement, {"ids": wanted})
        return {row.id: PartnerProgram(**row._mapping) for row in rows}


async def exists(db: Database, partner_id: uuid.UUID) -> bool:
    return partner_id in await programmes(db, [partner_id])


async def count(db: Database) -> int:
    async with db.engine.connect() as connection:
        return (await connection.execute(select(func.count()).select_from(_partners))).scalar_one()


async def upsert(db: Database, programme: PartnerProgram) -> PartnerProgram:
    """Registers the programme, or replaces the partner's one; answers it as stored."""
    values = {name: getattr(programme, name) for name in PartnerProgram.__dataclass_fields__ if name != "id"}
    values["updated_at"] = utcnow()
    statement = (
        insert(_partners)
        .values(id=programme.id, **values)
        .on_conflict_do_update(index_elements=["id"], set_=values)
        .returning(*_COLUMNS)
    )
    async with db.engine.begin() as connection:
        row = (await connection.execute(statement)).one()
    return PartnerProgram(**row._mapping)


_registry = PartnerRegistryStatus.__table__


async def registry_statuses(db: Database, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, tuple[str, tuple[str, ...]]]:
    """What the partner registry last said of each of `ids` (status, roles); absent if it said nothing."""
    wanted = list(set(ids))
    if not wanted:
        return {}
    async with db.engine.connect() as connection:
        rows = await connection.execute(
            select(_registry.c.partner_id, _registry.c.status, _registry.c.roles).where(_registry.c.partner_id.in_(wanted))
        )
        return {row.partner_id: (row.status, tuple(row.roles)) for row in rows}


async def learn_registry_status(
    session: AsyncSession, partner_id: uuid.UUID, status: str, roles: Sequence[str], version: int
) -> None:
    """Keeps the registry's word with the highest version (deliveries retry and overtake one another)."""
    values = {"status": status, "roles": list(roles), "version": version, "updated_at": utcnow()}
    statement = (
        insert(_registry)
        .values(partner_id=partner_id, **values)
        .on_conflict_do_update(index_elements=["partner_id"], set_=values, where=_registry.c.version < version)
    )
    await (await session.connection()).execute(statement)
