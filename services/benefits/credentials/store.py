"""The api_keys table's SQL: the only place that queries it."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from services.benefits.models import ApiKey

API_KEYS: sa.Table = ApiKey.__table__  # type: ignore[attr-defined]

# last_used_at is written at most this often per key: exchanges stay reads almost always.
TOUCH_EVERY = timedelta(minutes=1)


def _row(mapping: Any) -> ApiKey:
    return ApiKey(**mapping)


async def insert_key(session: AsyncSession, values: dict[str, Any]) -> ApiKey:
    statement = sa.insert(API_KEYS).values(**values, created_at=sa.func.now()).returning(*API_KEYS.c)
    return _row((await session.exec(statement)).one()._mapping)  # type: ignore[call-overload]


async def count_active(session: AsyncSession, partner_id: uuid.UUID) -> int:
    statement = sa.select(sa.func.count()).where(API_KEYS.c.partner_id == partner_id, API_KEYS.c.revoked_at.is_(None))
    return (await session.exec(statement)).scalar_one()  # type: ignore[call-overload]


async def lock(session: AsyncSession, key_id: uuid.UUID) -> ApiKey | None:
    """The key, locked until the transaction ends (so a revocation reads the latest state)."""
    statement = sa.select(API_KEYS).where(API_KEYS.c.id == key_id).with_for_update()
    row = (await session.exec(statement)).first()  # type: ignore[call-overload]
    return _row(row._mapping) if row is not None else None


async def revoke(session: AsyncSession, key_id: uuid.UUID, by: str) -> ApiKey | None:
    """Revokes an active key; None if it was revoked already (the first revocation is kept). The
    caller holds the key's lock."""
    statement = (
        sa.update(API_KEYS)
        .where(API_KEYS.c.id == key_id, API_KEYS.c.revoked_at.is_(None))
        .values(revoked_at=sa.func.now(), revoked_by=by)
        .returning(*API_KEYS.c)
    )
    row = (await session.exec(statement)).first()  # type: ignore[call-overload]
    return _row(row._mapping) if row is not None else None


async def keys_of(session: AsyncSession, partner_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, list[ApiKey]]:
    """Each partner's keys, newest first."""
    wanted = list(set(partner_ids))
    found: dict[uuid.UUID, list[ApiKey]] = {i: [] for i in wanted}
    if wanted:
        statement = (
            sa.select(API_KEYS).where(API_KEYS.c.partner_id.in_(wanted)).order_by(API_KEYS.c.created_at.desc(), API_KEYS.c.id)
        )
        for row in await session.exec(statement):  # type: ignore[call-overload]
            found[row.partner_id].append(_row(row._mapping))
    return found


@dataclass(frozen=True, slots=True)
class KeyForExchange:
    id: uuid.UUID
    partner_id: uuid.UUID
    secret_hash: bytes
    revoked: bool
    stale_use: bool  # last_used_at is older than TOUCH_EVERY (or unset)


_FOR_EXCHANGE = sa.select(
    API_KEYS.c.id,
    API_KEYS.c.partner_id,
    API_KEYS.c.secret_hash,
    API_KEYS.c.revoked_at.is_not(None).label("revoked"),
    sa.func.coalesce(API_KEYS.c.last_used_at < sa.func.now() - TOUCH_EVERY, True).label("stale_use"),
).where(API_KEYS.c.prefix == sa.bindparam("prefix"))

_TOUCH = (
    sa.update(API_KEYS)
    .where(
        API_KEYS.c.id == sa.bindparam("key_id"),
        sa.or_(API_KEYS.c.last_used_at.is_(None), API_KEYS.c.last_used_at < sa.func.now() - TOUCH_EVERY),
    )
    .values(last_used_at=sa.func.now())
)


async def for_exchange(session: AsyncSession, prefix: str) -> KeyForExchange | None:
    """What an exchange needs of the key with this prefix."""
    row = (await session.exec(_FOR_EXCHANGE, params={"prefix": prefix})).first()  # type: ignore[call-overload]
    return KeyForExchange(**row._mapping) if row is not None else None


async def touch(session: AsyncSession, key_id: uuid.UUID) -> None:
    """Sets last_used_at unless it was set within TOUCH_EVERY (concurrent exchanges: one writes)."""
    await session.exec(_TOUCH, params={"key_id": key_id})  # type: ignore[call-overload]
