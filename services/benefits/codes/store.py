"""The SQL of code pools: benefit rows as the pools see them, uploads, codes and their states.

Every change of a code's state is one conditional UPDATE naming the state it leaves, so two
transactions can never both move the same code; callers lock the rows they decide on first.
Indexes: ix_codes_benefit (benefit, id) INCLUDE (state) lets stock counts and a pool's list read the
index only; ix_codes_issued_expiry finds issued codes past their validity for the expiry job.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlmodel.ext.asyncio.session import AsyncSession

from services.benefits import statements

_BENEFIT_COLUMNS = """id, partner_id, kind, delivery, status, title, settlement_minor, currency, validity_days,
    valid_until, available_from, available_until, stock_total, stock_reserved, stock_issued, low_stock_threshold,
    low_stock_alerted, data_key"""


async def _all(session: AsyncSession, sql: str, **params: Any) -> Sequence[Any]:
    return await statements.fetch(session, sql, **params)


async def _first(session: AsyncSession, sql: str, **params: Any) -> Any | None:
    return await statements.fetch_one(session, sql, **params)


# --- benefit rows ------------------------------------------------------------------------------------


async def benefit(session: AsyncSession, benefit_id: uuid.UUID, *, lock: bool = False) -> Any | None:
    """A benefit's row; `lock` takes it FOR NO KEY UPDATE (which leaves foreign-key checks of new
    codes and reservations free to go on)."""
    suffix = " FOR NO KEY UPDATE" if lock else ""
    return await _first(session, f"SELECT {_BENEFIT_COLUMNS} FROM benefits.benefits WHERE id = :id{suffix}", id=benefit_id)


async def benefits(session: AsyncSession, benefit_ids: Sequence[uuid.UUID]) -> Sequence[Any]:
    return await _all(session, f"SELECT {_BENEFIT_COLUMNS} FROM benefits.benefits WHERE id = ANY(:ids)", ids=list(benefit_ids))


async def set_data_key(session: AsyncSession, benefit_id: uuid.UUID, wrapped: bytes) -> bytes:
    """Stores `wrapped` as the benefit's data key unless it has one; returns the one it has."""
    await _all(
        session,
        "UPDATE benefits.benefits SET data_key = :k WHERE id = :id AND data_key IS NULL",
        k=wrapped, id=benefit_id,
    )
    row = await _first(session, "SELECT data_key FROM benefits.benefits WHERE id = :id", id=benefit_id)
    assert row is not None and row.data_key is not None
    return bytes(row.data_key)


async def data_keys(session: AsyncSession, benefit_ids: Sequence[uuid.UUID]) -> list[tuple[uuid.UUID, bytes | None]]:
    rows = await _all(session, "SELECT id, data_key FROM benefits.benefits WHERE id = ANY(:ids)", ids=list(benefit_ids))
    return [(row.id, bytes(row.data_key) if row.data_key is not None else None) for row in rows]


async def set_low_stock(session: AsyncSession, benefit_id: uuid.UUID, *, threshold: int | None, alerted: bool, now: datetime) -> None:
    await _all(
        session,
        "UPDATE benefits.benefits SET low_stock_threshold = :t, low_stock_alerted = :a, updated_at = :now WHERE id = :id",
        t=threshold, a=alerted, now=now, id=benefit_id,
    )


async def set_low_stock_alerted(session: AsyncSession, benefit_id: uuid.UUID, alerted: bool) -> None:
    await _all(
        session,
        "UPDATE benefits.benefits SET low_stock_alerted = :a WHERE id = :id",
        a=alerted, id=benefit_id,
    )


# --- uploads -----------------------------------------------------------------------------------------


async def claim_upload(
    session: AsyncSession, *, upload_id: uuid.UUID, benefit_id: uuid.UUID, key: str, created_by: str, now: datetime
) -> bool:
    """Claims (benefit, key) for a new upload; False when an upload already has that key (a
    concurrent one with the same key waits here until the first commits or rolls back)."""
    row = await _first(
        session,
        """INSERT INTO benefits.code_uploads (id, benefit_id, key, fingerprint, accepted, rejected, errors, created_at, created_by)
           VALUES (:id, :b, :key, '', 0, 0, '[]', :now, :by) ON CONFLICT (benefit_id, key) DO NOTHING RETURNING id""",
        id=upload_id, b=benefit_id, key=key, now=now, by=created_by,
    )
    return row is not None


async def upload_by_key(session: AsyncSession, benefit_id: uuid.UUID, key: str) -> Any | None:
    return await _first(session, "SELECT * FROM benefits.code_uploads WHERE benefit_id = :b AND key = :key", b=benefit_id, key=key)


async def uploads(session: AsyncSession, upload_ids: Sequence[uuid.UUID]) -> Sequence[Any]:
    return await _all(session, "SELECT * FROM benefits.code_uploads WHERE id = ANY(:ids)", ids=list(upload_ids))


async def finish_upload(
    session: AsyncSession, upload_id: uuid.UUID, *, fingerprint: str, accepted: int, rejected: int, errors: list[dict[str, Any]]
) -> None:
    await _all(
        session,
        """UPDATE benefits.code_uploads SET fingerprint = :f, accepted = :a, rejected = :r, errors = CAST(:e AS jsonb)
                WHERE id = :id""",
        f=fingerprint, a=accepted, r=rejected, e=orjson.dumps(errors).decode(), id=upload_id,
    )


async def insert_codes(
    session: AsyncSession,
    *,
    benefit_id: uuid.UUID,
    upload_id: uuid.UUID,
    ids: list[uuid.UUID],
    hashes: list[bytes],
    ciphertexts: list[bytes],
    last4s: list[str],
    now: datetime,
) -> set[uuid.UUID]:
    """One multi-row INSERT of AVAILABLE codes; a code whose hash is already in any pool is skipped.
    Returns the ids that went in (the others are duplicates)."""
    rows = await _all(
        session,
        """INSERT INTO benefits.codes (id, benefit_id, upload_id, code_hash, code_encrypted, last4, state, created_at)
           SELECT i, :b, :u, h, c, l, 'AVAILABLE', :now
           FROM unnest(CAST(:ids AS uuid[]), CAST(:hashes AS bytea[]), CAST(:cts AS bytea[]), CAST(:l4 AS text[])) AS t(i, h, c, l)
           ON CONFLICT (code_hash) DO NOTHING RETURNING id""",
        b=benefit_id, u=upload_id, now=now, ids=ids, hashes=hashes, cts=ciphertexts, l4=last4s,
    )
    return {row.id for row in rows}


async def uploads_holding(session: AsyncSession, hashes: list[bytes]) -> dict[bytes, uuid.UUID | None]:
    """For hashes already taken: which upload put each one in."""
    rows = await _all(session, "SELECT code_hash, upload_id FROM benefits.codes WHERE code_hash = ANY(:h)", h=hashes)
    return {bytes(row.code_hash): row.upload_id for row in rows}


# --- stock -------------------------------------------------------------------------------------------


async def counts_by_state(session: AsyncSession, benefit_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, dict[str, int]]:
    rows = await _all(
        session,
        "SELECT benefit_id, state, count(*) AS n FROM benefits.codes WHERE benefit_id = ANY(:ids) GROUP BY benefit_id, state",
        ids=list(benefit_ids),
    )
    found: dict[uuid.UUID, dict[str, int]] = {}
    for row in rows:
        found.setdefault(row.benefit_id, {})[row.state] = row.n
    return found


async def available_at_most(session: AsyncSession, benefit_id: uuid.UUID, limit: int) -> int:
    """min(available codes, limit): enough to compare with a threshold, reading at most `limit`
    entries of the available-codes index however large the pool."""
    row = await _first(
        session,
        """SELECT count(*) AS n FROM (SELECT 1 FROM benefits.codes WHERE benefit_id = :b AND state = 'AVAILABLE' LIMIT :n) s""",
        b=benefit_id, n=limit,
    )
    return int(row.n) if row else 0


async def usage(session: AsyncSession, partner_id: uuid.UUID) -> Sequence[Any]:
    """Per CODE benefit of a partner: codes issued to members (not voided) and codes used."""
    return await _all(
        session,
        """SELECT b.id AS benefit_id,
                  count(c.id) FILTER (WHERE c.state IN ('ISSUED', 'USED', 'EXPIRED')) AS issued,
                  count(c.id) FILTER (WHERE c.state = 'USED') AS used
           FROM benefits.benefits b LEFT JOIN benefits.codes c ON c.benefit_id = b.id
           WHERE b.partner_id = :p AND b.delivery = 'CODE' GROUP BY b.id ORDER BY b.id""",
        p=partner_id,
    )


# --- codes -------------------------------------------------------------------------------------------

_CODE_COLUMNS = """c.id, c.benefit_id, c.code_encrypted, c.last4, c.state, c.reservation_id, c.reserved_until, c.member_id,
    c.issued_at, c.valid_until, c.used_at, c.voided_at, c.created_at"""


async def codes_by_id(session: AsyncSession, code_ids: Sequence[uuid.UUID]) -> Sequence[Any]:
    return await _all(session, f"SELECT {_CODE_COLUMNS} FROM benefits.codes c WHERE c.id = ANY(:ids)", ids=list(code_ids))


async def codes_of_member(session: AsyncSession, member_id: uuid.UUID, *, after: uuid.UUID | None, limit: int) -> Sequence[Any]:
    """A member's codes, newest first (ids are time-ordered)."""
    return await _all(
        session,
        f"""SELECT {_CODE_COLUMNS} FROM benefits.codes c WHERE c.member_id = :m AND (CAST(:after AS uuid) IS NULL OR c.id < :after)
            ORDER BY c.id DESC LIMIT :n""",
        m=member_id, after=after, n=limit,
    )


async def codes_of_benefit(
    session: AsyncSession, benefit_id: uuid.UUID, *, state: str | None, after: uuid.UUID | None, limit: int
) -> Sequence[Any]:
    """A pool's codes in upload order, optionally of one state."""
    return await _all(
        session,
        f"""SELECT {_CODE_COLUMNS} FROM benefits.codes c
            WHERE c.benefit_id = :b AND (CAST(:state AS text) IS NULL OR c.state = :state)
              AND (CAST(:after AS uuid) IS NULL OR c.id > :after)
            ORDER BY c.id LIMIT :n""",
        b=benefit_id, state=state, after=after, n=limit,
    )


async def lock_code(session: AsyncSession, code_id: uuid.UUID) -> Any | None:
    return await _first(session, f"SELECT {_CODE_COLUMNS} FROM benefits.codes c WHERE c.id = :id FOR UPDATE", id=code_id)


async def lock_partner_code(session: AsyncSession, hashes: list[bytes], partner_id: uuid.UUID) -> Any | None:
    """The code with one of `hashes` in a pool of `partner_id`, locked; None for a code that is
    another partner's or does not exist (one query either way, so both take the same path)."""
    return await _first(
        session,
        f"""SELECT {_CODE_COLUMNS}, b.partner_id FROM benefits.codes c JOIN benefits.benefits b ON b.id = c.benefit_id
            WHERE c.code_hash = ANY(:h) AND b.partner_id = :p
            ORDER BY array_position(CAST(:h AS bytea[]), c.code_hash) LIMIT 1 FOR UPDATE OF c""",
        h=hashes, p=partner_id,
    )


async def move(session: AsyncSession, code_id: uuid.UUID, *, from_state: str, to_state: str, **columns: Any) -> bool:
    """Moves one code from `from_state` to `to_state`, setting `columns`; False if it was not in
    `from_state` (someone else moved it first)."""
    assignments = ", ".join(f"{name} = :{name}" for name in columns)
    sql = f"UPDATE benefits.codes SET state = :to{', ' + assignments if assignments else ''} WHERE id = :id AND state = :from RETURNING id"
    return await _first(session, sql, id=code_id, to=to_state, **{"from": from_state}, **columns) is not None


async def expire_issued(session: AsyncSession, now: datetime, limit: int) -> Sequence[Any]:
    """Marks up to `limit` issued codes past their validity EXPIRED (skipping codes another
    transaction holds, e.g. one being written off right now)."""
    return await _all(
        session,
        """UPDATE benefits.codes SET state = 'EXPIRED' WHERE id IN (
               SELECT id FROM benefits.codes WHERE state = 'ISSUED' AND valid_until <= :now
               ORDER BY valid_until LIMIT :n FOR UPDATE SKIP LOCKED)
           AND state = 'ISSUED' RETURNING id, benefit_id""",
        now=now, n=limit,
    )
