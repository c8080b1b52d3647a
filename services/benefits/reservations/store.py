"""The SQL of reservations, and of the stock counters a recharge benefit reserves from.

A reservation's row is the lock every step of it takes first (issue, release, void, the expiry
job), then its code's row: one order everywhere, so no two steps deadlock.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from services.benefits import statements

_COLUMNS = """r.id, r.key, r.benefit_id, r.member_id, r.state, r.settlement_minor, r.period_start, r.code_id,
    r.delivery_reference, r.expires_at, r.created_at, r.issued_at, r.released_at, r.created_by,
    b.currency, b.partner_id, c.last4"""
_FROM = """benefits.reservations r JOIN benefits.benefits b ON b.id = r.benefit_id
    LEFT JOIN benefits.codes c ON c.id = r.code_id"""


async def _all(session: AsyncSession, sql: str, **params: Any) -> Sequence[Any]:
    return await statements.fetch(session, sql, **params)


async def _first(session: AsyncSession, sql: str, **params: Any) -> Any | None:
    return await statements.fetch_one(session, sql, **params)


async def insert(
    session: AsyncSession, *, id: uuid.UUID, key: str, benefit_id: uuid.UUID, member_id: uuid.UUID, settlement_minor: int,
    period_start: datetime, code_id: uuid.UUID | None, expires_at: datetime, now: datetime, created_by: str,
) -> None:
    await _all(
        session,
        """INSERT INTO benefits.reservations (id, key, benefit_id, member_id, state, settlement_minor, period_start,
               code_id, expires_at, created_at, created_by)
           VALUES (:id, :key, :b, :m, 'RESERVED', :s, :p, :c, :e, :now, :by)""",
        id=id, key=key, b=benefit_id, m=member_id, s=settlement_minor, p=period_start, c=code_id, e=expires_at, now=now,
        by=created_by,
    )


async def reserve_code(
    session: AsyncSession, *, id: uuid.UUID, key: str, benefit_id: uuid.UUID, member_id: uuid.UUID, settlement_minor: int,
    period_start: datetime, expires_at: datetime, now: datetime, created_by: str,
) -> Any | None:
    """In one statement: locks the oldest AVAILABLE code of the pool that no other transaction
    holds (`FOR UPDATE SKIP LOCKED` on ix_codes_available), records the reservation and marks the
    code RESERVED to it. Returns the code's id and last4, or None when no code is free."""
    return await _first(
        session,
        """WITH code AS (
               SELECT id, last4 FROM benefits.codes WHERE benefit_id = :b AND state = 'AVAILABLE'
               ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED
           ), reservation AS (
               INSERT INTO benefits.reservations (id, key, benefit_id, member_id, state, settlement_minor, period_start,
                   code_id, expires_at, created_at, created_by)
               SELECT :id, :key, :b, :m, 'RESERVED', :s, :p, code.id, :e, :now, :by FROM code RETURNING code_id
           ), taken AS (
               UPDATE benefits.codes SET state = 'RESERVED', reservation_id = :id, reserved_until = :e
               FROM reservation WHERE codes.id = reservation.code_id RETURNING codes.id
           )
           SELECT code.id, code.last4, (SELECT count(*) FROM taken) AS taken FROM code""",
        id=id, key=key, b=benefit_id, m=member_id, s=settlement_minor, p=period_start, e=expires_at, now=now, by=created_by,
    )


async def issue_code(
    session: AsyncSession, *, reservation_id: uuid.UUID, code_id: uuid.UUID, member_id: uuid.UUID, now: datetime,
    valid_until: datetime | None, delivery_reference: str | None,
) -> bool:
    """In one statement: the reservation ISSUED and its code ISSUED to the member with its validity."""
    row = await _first(
        session,
        """WITH reservation AS (
               UPDATE benefits.reservations SET state = 'ISSUED', issued_at = :now, delivery_reference = :ref
               WHERE id = :r AND state = 'RESERVED' RETURNING id
           )
           UPDATE benefits.codes SET state = 'ISSUED', member_id = :m, issued_at = :now, valid_until = :vu, reserved_until = NULL
           FROM reservation WHERE codes.id = :c AND codes.state = 'RESERVED' AND codes.reservation_id = reservation.id
           RETURNING codes.id""",
        r=reservation_id, c=code_id, m=member_id, now=now, vu=valid_until, ref=delivery_reference,
    )
    return row is not None


async def by_id(session: AsyncSession, reservation_id: uuid.UUID) -> Any | None:
    return await _first(session, f"SELECT {_COLUMNS} FROM {_FROM} WHERE r.id = :id", id=reservation_id)


async def by_keys(session: AsyncSession, keys: Sequence[str]) -> Sequence[Any]:
    return await _all(session, f"SELECT {_COLUMNS} FROM {_FROM} WHERE r.key = ANY(:k)", k=list(keys))


async def lock_by_key(session: AsyncSession, key: str) -> Any | None:
    """A reservation locked, with what its steps need of its benefit and code (validity, the
    pool's key and the code's ciphertext, to answer the code to the issuing service)."""
    return await _first(
        session,
        f"""SELECT {_COLUMNS}, b.validity_days, b.valid_until AS benefit_valid_until, b.data_key, c.code_encrypted
            FROM {_FROM} WHERE r.key = :k FOR UPDATE OF r""",
        k=key,
    )


async def lock_expired(session: AsyncSession, now: datetime, limit: int) -> Sequence[Any]:
    """Up to `limit` reservations past their time, locked; ones a step holds right now are skipped
    (that step decides them, and the next run sees the rest)."""
    return await _all(
        session,
        f"""SELECT {_COLUMNS} FROM {_FROM} WHERE r.state = 'RESERVED' AND r.expires_at <= :now
            ORDER BY r.expires_at LIMIT :n FOR UPDATE OF r SKIP LOCKED""",
        now=now, n=limit,
    )


async def set_state(session: AsyncSession, reservation_id: uuid.UUID, *, from_state: str, to_state: str, **columns: Any) -> None:
    assignments = "".join(f", {name} = :{name}" for name in columns)
    row = await _first(
        session,
        f"UPDATE benefits.reservations SET state = :to{assignments} WHERE id = :id AND state = :from RETURNING id",
        id=reservation_id, to=to_state, **{"from": from_state}, **columns,
    )
    if row is None:  # the row is locked by the caller, so this is a bug, not a race
        raise RuntimeError(f"reservation {reservation_id} was not {from_state}")


# --- recharge stock counters ----------------------------------------------------------------------------


async def reserve_stock(session: AsyncSession, benefit_id: uuid.UUID) -> bool:
    """One unit of a recharge benefit's stock reserved, if any is left (always, when unlimited)."""
    row = await _first(
        session,
        """UPDATE benefits.benefits SET stock_reserved = stock_reserved + 1
           WHERE id = :id AND (stock_total IS NULL OR stock_reserved + stock_issued + 1 <= stock_total) RETURNING id""",
        id=benefit_id,
    )
    return row is not None


async def move_stock(session: AsyncSession, benefit_id: uuid.UUID, *, reserved: int, issued: int) -> None:
    """Adds `reserved` and `issued` (either may be negative) to a recharge benefit's counters."""
    await _all(
        session,
        """UPDATE benefits.benefits SET stock_reserved = stock_reserved + :r, stock_issued = stock_issued + :i
                WHERE id = :id""",
        r=reserved, i=issued, id=benefit_id,
    )


async def key_of_code(session: AsyncSession, code_id: uuid.UUID) -> str | None:
    """The key of the reservation that issued a code (the redemption's key)."""
    row = await _first(session, "SELECT key FROM benefits.reservations WHERE code_id = :c AND state IN ('ISSUED', 'VOIDED')", c=code_id)
    return row.key if row else None
