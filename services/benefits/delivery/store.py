"""The SQL of recharge deliveries: what a delivery reads of its reservation, the delivery log
(delivery_attempts), and the binding of a reservation key to the account it is delivered to.

The binding is a row of the idempotency table (scope `benefits.deliverRecharge`), claimed before
the first request to the partner: so two calls that race with different accounts cannot both
reach the partner under one key. Its response holds what else the first request said that could
change later (`{"durationDays": n}`: the benefit may be edited meanwhile, and a key must never be
sent with another body), then, once the recharge is issued, `{"reservation": …}`: a call after
success is answered from it without asking the partner again.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import orjson
from sqlmodel.ext.asyncio.session import AsyncSession

from services.benefits import statements
from services.benefits.delivery.outcomes import Attempt

DELIVER_SCOPE = "benefits.deliverRecharge"


async def for_delivery(session: AsyncSession, key: str) -> Any | None:
    """A reservation with what delivering it needs: its benefit (kind, mode, duration), the owning
    partner and its fulfilment URL, and whether any request was sent for it before."""
    return await statements.fetch_one(
        session,
        """SELECT r.id, r.key, r.state, r.member_id, r.benefit_id, r.delivery_reference, b.kind, b.delivery,
                  b.duration_days, b.partner_id, p.fulfilment_url,
                  EXISTS (SELECT 1 FROM benefits.delivery_attempts a WHERE a.reservation_id = r.id) AS attempted
           FROM benefits.reservations r JOIN benefits.benefits b ON b.id = r.benefit_id
                JOIN benefits.partners p ON p.id = b.partner_id
           WHERE r.key = :k""",
        k=key,
    )


async def owners(session: AsyncSession, *, keys: Sequence[str] = (), ids: Sequence[uuid.UUID] = ()) -> Sequence[Any]:
    """Reservations (by key or id) with the partner that owns their benefit: who may read their log."""
    return await statements.fetch(
        session,
        """SELECT r.id, r.key, b.partner_id FROM benefits.reservations r JOIN benefits.benefits b ON b.id = r.benefit_id
           WHERE r.key = ANY(:keys) OR r.id = ANY(:ids)""",
        keys=list(keys), ids=list(ids),
    )


async def bind(session: AsyncSession, key: str, fingerprint: str) -> tuple[str, Any]:
    """Claims the key for `fingerprint` unless claimed; returns the claimed fingerprint and what is
    stored with it (None on the first claim)."""
    claimed = await statements.fetch_one(
        session,
        """INSERT INTO benefits.idempotency_keys (scope, key, fingerprint) VALUES (:s, :k, :f)
           ON CONFLICT DO NOTHING RETURNING fingerprint""",
        s=DELIVER_SCOPE, k=key, f=fingerprint,
    )
    if claimed is not None:
        return fingerprint, None
    row = await statements.fetch_one(
        session, "SELECT fingerprint, response FROM benefits.idempotency_keys WHERE scope = :s AND key = :k",
        s=DELIVER_SCOPE, k=key,
    )
    assert row is not None  # claimed by a transaction that committed (ON CONFLICT waited for it)
    response = row.response
    return row.fingerprint, orjson.loads(response) if isinstance(response, str | bytes) else response


async def remember(session: AsyncSession, key: str, response: dict[str, Any]) -> None:
    """Stores `response` with the key's binding (see the module's docstring for what it holds)."""
    await statements.fetch(
        session,
        "UPDATE benefits.idempotency_keys SET response = CAST(:r AS jsonb) WHERE scope = :s AND key = :k",
        r=orjson.dumps(response).decode(), s=DELIVER_SCOPE, k=key,
    )


async def insert_attempts(
    session: AsyncSession, reservation_id: uuid.UUID, partner_id: uuid.UUID, attempts: Sequence[Attempt]
) -> None:
    """The delivery log of one call, in one statement (in the order the requests were sent)."""
    if not attempts:
        return
    await statements.fetch(
        session,
        """INSERT INTO benefits.delivery_attempts (reservation_id, partner_id, at, request, http_status, error, latency_ms,
               outcome, detail)
           SELECT :r, :p, a.at, a.request, a.http_status, a.error, a.latency_ms, a.outcome, a.detail
           FROM unnest(CAST(:at AS timestamptz[]), CAST(:request AS varchar[]), CAST(:status AS integer[]),
                       CAST(:error AS varchar[]), CAST(:latency AS integer[]), CAST(:outcome AS varchar[]),
                       CAST(:detail AS varchar[]))
                AS a(at, request, http_status, error, latency_ms, outcome, detail)""",
        r=reservation_id, p=partner_id,
        at=[a.at for a in attempts], request=[a.kind.value for a in attempts], status=[a.http_status for a in attempts],
        error=[a.error[:500] if a.error else None for a in attempts], latency=[round(a.latency_ms) for a in attempts],
        outcome=[a.outcome.value for a in attempts], detail=[a.detail[:256] if a.detail else None for a in attempts],
    )


async def attempts_of(session: AsyncSession, reservation_ids: Sequence[uuid.UUID]) -> Sequence[Any]:
    """Every attempt of these reservations, oldest first (ix_delivery_attempts_reservation)."""
    return await statements.fetch(
        session,
        """SELECT a.reservation_id, a.at, a.request, a.http_status, a.error, a.latency_ms, a.outcome, a.detail, r.key
           FROM benefits.delivery_attempts a JOIN benefits.reservations r ON r.id = a.reservation_id
           WHERE a.reservation_id = ANY(:ids) ORDER BY a.reservation_id, a.at, a.id""",
        ids=list(reservation_ids),
    )
