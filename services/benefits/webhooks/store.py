"""The webhook_deliveries and webhook_secrets tables' SQL: the only place that queries them."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession

from services.benefits.models import WebhookDelivery, WebhookSecret
from services.benefits.webhooks.rules import MAX_LOG_ENTRIES, DeliveryStatus, SecretPurpose

DELIVERIES: sa.Table = WebhookDelivery.__table__  # type: ignore[attr-defined]
SECRETS: sa.Table = WebhookSecret.__table__  # type: ignore[attr-defined]
_LOG_KEEPS = MAX_LOG_ENTRIES - 1


def _delivery(mapping: Any) -> WebhookDelivery:
    return WebhookDelivery(**mapping)


# --- secrets ---------------------------------------------------------------------------------------

_ACTIVE = sa.or_(SECRETS.c.expires_at.is_(None), SECRETS.c.expires_at > sa.func.now())


async def active_secrets(
    session: AsyncSession | AsyncConnection, partner_ids: Iterable[uuid.UUID], purpose: SecretPurpose = SecretPurpose.WEBHOOK
) -> dict[uuid.UUID, list[WebhookSecret]]:
    """Each partner's secrets for `purpose` that still sign, newest first."""
    wanted = list(set(partner_ids))
    found: dict[uuid.UUID, list[WebhookSecret]] = {i: [] for i in wanted}
    if wanted:
        statement = (
            sa.select(SECRETS)
            .where(SECRETS.c.partner_id.in_(wanted), SECRETS.c.purpose == purpose.value, _ACTIVE)
            .order_by(SECRETS.c.created_at.desc(), SECRETS.c.id)
        )
        for row in await _run(session, statement):
            found[row.partner_id].append(WebhookSecret(**row._mapping))
    return found


async def retire_secrets(
    session: AsyncSession, partner_id: uuid.UUID, overlap: timedelta, purpose: SecretPurpose = SecretPurpose.WEBHOOK
) -> datetime | None:
    """Starts a rotation of the partner's `purpose` secrets: the current secret keeps signing for
    `overlap`; one already retiring stops now (so at most two ever sign). Deletes secrets that stopped
    signing. Returns when the current one stops, if there was one. The caller holds the partner's lock."""
    mine = sa.and_(SECRETS.c.partner_id == partner_id, SECRETS.c.purpose == purpose.value)
    await session.exec(sa.delete(SECRETS).where(mine, SECRETS.c.expires_at <= sa.func.now()))  # type: ignore[call-overload]
    await session.exec(  # type: ignore[call-overload]
        sa.update(SECRETS).where(mine, SECRETS.c.expires_at.is_not(None)).values(expires_at=sa.func.now())
    )
    retired = await session.exec(  # type: ignore[call-overload]
        sa.update(SECRETS)
        .where(mine, SECRETS.c.expires_at.is_(None))
        .values(expires_at=sa.func.now() + overlap)
        .returning(SECRETS.c.expires_at)
    )
    return max((row.expires_at for row in retired), default=None)


async def insert_secret(session: AsyncSession, values: dict[str, Any]) -> WebhookSecret:
    statement = sa.insert(SECRETS).values(**values, created_at=sa.func.now()).returning(*SECRETS.c)
    return WebhookSecret(**(await session.exec(statement)).one()._mapping)  # type: ignore[call-overload]


# --- deliveries ------------------------------------------------------------------------------------


async def insert_deliveries(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> int:
    """One row per (event, partner), due now; a row that exists already is left as it is (idempotent)."""
    if not rows:
        return 0
    now = sa.func.now()
    statement = (
        insert(DELIVERIES)
        .values([{**row, "status": DeliveryStatus.PENDING.value, "created_at": now, "next_attempt_at": now} for row in rows])
        .on_conflict_do_nothing(constraint="uq_webhook_deliveries_event_partner")
    )
    return (await session.exec(statement)).rowcount  # type: ignore[call-overload]


async def get_delivery(session: AsyncSession, delivery_id: uuid.UUID) -> WebhookDelivery | None:
    row = (await session.exec(sa.select(DELIVERIES).where(DELIVERIES.c.id == delivery_id))).first()  # type: ignore[call-overload]
    return _delivery(row._mapping) if row is not None else None


async def redeliver(session: AsyncSession, delivery_id: uuid.UUID) -> WebhookDelivery | None:
    """Due now, with a fresh set of attempts (its log kept); None while an attempt is in flight."""
    statement = (
        sa.update(DELIVERIES)
        .where(
            DELIVERIES.c.id == delivery_id,
            sa.or_(DELIVERIES.c.leased_until.is_(None), DELIVERIES.c.leased_until <= sa.func.now()),
        )
        .values(status=DeliveryStatus.PENDING.value, attempts=0, next_attempt_at=sa.func.now(), leased_until=None)
        .returning(*DELIVERIES.c)
    )
    row = (await session.exec(statement)).first()  # type: ignore[call-overload]
    return _delivery(row._mapping) if row is not None else None


async def pages(
    session: AsyncSession,
    partner_ids: Sequence[uuid.UUID],
    *,
    status: DeliveryStatus | None,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> dict[uuid.UUID, list[WebhookDelivery]]:
    """Each partner's deliveries, newest first by (created_at, id): one query for all of them."""
    found: dict[uuid.UUID, list[WebhookDelivery]] = {i: [] for i in partner_ids}
    if not partner_ids:
        return found
    partners = sa.func.unnest(sa.cast(list(set(partner_ids)), sa.ARRAY(sa.Uuid))).table_valued("id").render_derived(name="p")
    inner = sa.select(DELIVERIES).where(DELIVERIES.c.partner_id == partners.c.id)
    if status is not None:
        inner = inner.where(DELIVERIES.c.status == status.value)
    if after is not None:
        inner = inner.where(sa.tuple_(DELIVERIES.c.created_at, DELIVERIES.c.id) < sa.tuple_(*after))
    inner = inner.order_by(DELIVERIES.c.created_at.desc(), DELIVERIES.c.id.desc()).limit(limit).lateral("d")
    statement = sa.select(inner).select_from(partners).join(inner, sa.true())
    statement = statement.order_by(inner.c.partner_id, inner.c.created_at.desc(), inner.c.id.desc())
    for row in await session.exec(statement):  # type: ignore[call-overload]
        found[row.partner_id].append(_delivery(row._mapping))
    return found


async def lease_due(connection: AsyncConnection, *, limit: int, lease: timedelta) -> list[WebhookDelivery]:
    """Takes up to `limit` due deliveries for this round (other rounds, here or in other processes,
    skip them) and counts the attempt."""
    due = (
        sa.select(DELIVERIES.c.id)
        .where(
            DELIVERIES.c.status == DeliveryStatus.PENDING.value,
            DELIVERIES.c.next_attempt_at <= sa.func.now(),
            sa.or_(DELIVERIES.c.leased_until.is_(None), DELIVERIES.c.leased_until <= sa.func.now()),
        )
        .order_by(DELIVERIES.c.next_attempt_at, DELIVERIES.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .cte("due")
    )
    statement = (
        sa.update(DELIVERIES)
        .where(DELIVERIES.c.id == due.c.id)
        .values(attempts=DELIVERIES.c.attempts + 1, leased_until=sa.func.now() + lease)
        .returning(*DELIVERIES.c)
    )
    return [_delivery(row._mapping) for row in await connection.execute(statement)]


async def record_attempt(
    connection: AsyncConnection,
    delivery: WebhookDelivery,
    *,
    status: DeliveryStatus,
    entry: dict[str, Any],
    retry_in: timedelta | None,
) -> bool:
    """Appends the attempt to the log (the oldest entries go past MAX_LOG_ENTRIES) and sets the
    outcome, only while our lease holds (a later round must not be overwritten). True if recorded."""
    log = DELIVERIES.c.log
    newest = sa.literal_column(f"'$[last - {_LOG_KEEPS - 1} to last]'::jsonpath")
    kept = sa.case((sa.func.jsonb_array_length(log) > _LOG_KEEPS, sa.func.jsonb_path_query_array(log, newest)), else_=log)
    appended = kept.op("||", return_type=JSONB)(sa.func.jsonb_build_array(sa.cast(entry, JSONB)))
    values: dict[str, Any] = {"status": status.value, "leased_until": None, "log": appended}
    if status is DeliveryStatus.DELIVERED:
        values["delivered_at"] = sa.func.now()
    if retry_in is not None:
        values["next_attempt_at"] = sa.func.now() + retry_in
    statement = (
        sa.update(DELIVERIES)
        .where(DELIVERIES.c.id == delivery.id, DELIVERIES.c.leased_until == delivery.leased_until, DELIVERIES.c.status == DeliveryStatus.PENDING.value)
        .values(**values)
    )
    return (await connection.execute(statement)).rowcount == 1


async def _run(runner: AsyncSession | AsyncConnection, statement: Any) -> Any:
    if isinstance(runner, AsyncSession):
        return await runner.exec(statement)  # type: ignore[call-overload]
    return await runner.execute(statement)
