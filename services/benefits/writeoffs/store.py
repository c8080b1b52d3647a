"""The SQL of write-offs: the audit of codes written off at partners' stores, and their undoing."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from services.benefits import statements

_COLUMNS = """w.id, w.code_id, w.benefit_id, w.partner_id, w.key, w.store_id, w.created_at, w.created_by, w.undone_at,
    w.undone_by, c.member_id, c.last4"""
_FROM = "benefits.write_offs w JOIN benefits.codes c ON c.id = w.code_id"


async def _first(session: AsyncSession, sql: str, **params: Any) -> Any | None:
    return await statements.fetch_one(session, sql, **params)


async def _all(session: AsyncSession, sql: str, **params: Any) -> Sequence[Any]:
    return await statements.fetch(session, sql, **params)


async def insert(
    session: AsyncSession, *, id: uuid.UUID, code_id: uuid.UUID, benefit_id: uuid.UUID, partner_id: uuid.UUID, key: str,
    store_id: str, now: datetime, created_by: str,
) -> None:
    await _all(
        session,
        """INSERT INTO benefits.write_offs (id, code_id, benefit_id, partner_id, key, store_id, created_at, created_by)
                VALUES (:id, :c, :b, :p, :k, :s, :now, :by)""",
        id=id, c=code_id, b=benefit_id, p=partner_id, k=key, s=store_id, now=now, by=created_by,
    )


async def by_id(session: AsyncSession, write_off_id: uuid.UUID) -> Any | None:
    return await _first(session, f"SELECT {_COLUMNS} FROM {_FROM} WHERE w.id = :id", id=write_off_id)


async def lock(session: AsyncSession, write_off_id: uuid.UUID) -> Any | None:
    return await _first(session, f"SELECT {_COLUMNS} FROM {_FROM} WHERE w.id = :id FOR UPDATE OF w", id=write_off_id)


async def mark_undone(session: AsyncSession, write_off_id: uuid.UUID, *, now: datetime, by: str) -> None:
    await _all(
        session,
        "UPDATE benefits.write_offs SET undone_at = :now, undone_by = :by WHERE id = :id AND undone_at IS NULL",
        now=now, by=by, id=write_off_id,
    )


async def of_partner(
    session: AsyncSession, partner_id: uuid.UUID, *, since: datetime | None, until: datetime | None,
    after: tuple[datetime, uuid.UUID] | None, limit: int,
) -> Sequence[Any]:
    """A partner's write-offs in [since, until), newest first."""
    return await _all(
        session,
        f"""SELECT {_COLUMNS} FROM {_FROM} WHERE w.partner_id = :p
              AND (CAST(:since AS timestamptz) IS NULL OR w.created_at >= :since)
              AND (CAST(:until AS timestamptz) IS NULL OR w.created_at < :until)
              AND (CAST(:at AS timestamptz) IS NULL OR (w.created_at, w.id) < (:at, :aid))
            ORDER BY w.created_at DESC, w.id DESC LIMIT :n""",
        p=partner_id, since=since, until=until, at=after[0] if after else None, aid=after[1] if after else None, n=limit,
    )
