"""Partners' webhooks: signing secrets and their rotation, the delivery log, redelivery on demand,
and the outbox's in-process subscriber `webhooks` that turns partner events into deliveries. The
fulfilment secrets that sign our recharge calls to a partner are kept and rotated the same way
(`SecretPurpose.FULFILMENT`).

Secrets are 32 random bytes, kept wrapped by the master key (as members' data keys are) and bound
to their row; the partner sees one once, as `whsec_…`, whose UTF-8 bytes are the HMAC key.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from shared.auth.principals import Principal, require_authenticated
from shared.crypto import CryptoError, field_aad, unwrap_data_key, wrap_data_key
from shared.database import Database
from shared.ids import new_id
from shared.errors import Conflict, NotFound
from shared.events import Event
from shared.pagination import Page, PageRequest, paginate

from services.benefits import access
from services.benefits.config import get_benefits_settings
from services.benefits.events import WEBHOOK_PING, publish_event
from services.benefits.models import WebhookDelivery, WebhookSecret
from services.benefits.partners import store as partners_store
from services.benefits.webhooks import rules, store
from services.benefits.webhooks.answers import DeliveryView, RotatedSecret, SecretInfo
from services.benefits.webhooks.rules import DeliveryStatus, SecretPurpose

log = logging.getLogger("abg.benefits.webhooks")

def _secret_field(purpose: str) -> str:
    """What a wrapped secret is bound to besides its row: its purpose too, so a webhook secret's
    ciphertext copied into a fulfilment row (or the purpose column changed) does not decrypt."""
    return "webhook_secret" if purpose == SecretPurpose.WEBHOOK else f"{purpose.lower()}_secret"


def signing_keys(rows: Iterable[WebhookSecret]) -> list[bytes]:
    """The HMAC keys of a partner's active secrets (a secret that no longer decrypts is skipped)."""
    keys = []
    for row in rows:
        try:
            raw = unwrap_data_key(row.secret, field_aad(row.id, _secret_field(row.purpose)))
        except CryptoError:
            log.error("webhook secret %s of partner %s does not decrypt; skipped", row.id, row.partner_id)
            continue
        keys.append(rules.secret_text(raw).encode())
    return keys


async def active_signing_keys(session: AsyncSession, partner_id: uuid.UUID, purpose: SecretPurpose) -> list[bytes]:
    """The HMAC keys a request of `purpose` to the partner is signed with now (two during a rotation)."""
    return signing_keys((await store.active_secrets(session, [partner_id], purpose))[partner_id])


async def rotate_webhook_secret(db: Database, principal: Principal, partner_id: uuid.UUID) -> RotatedSecret:
    """The partner or an operator: a new signing secret, shown once. The one it replaces keeps
    signing (beside it) for settings.webhook_secret_overlap_seconds, so the partner can switch
    without missing a delivery; the first call just makes the first secret."""
    return await rotate_secret(db, principal, partner_id, SecretPurpose.WEBHOOK)


async def rotate_secret(db: Database, principal: Principal, partner_id: uuid.UUID, purpose: SecretPurpose) -> RotatedSecret:
    """`rotate_webhook_secret` for the partner's secret of `purpose` (the fulfilment secret, too)."""
    access.require_partner_manager(principal, partner_id)
    overlap = timedelta(seconds=get_benefits_settings().webhook_secret_overlap_seconds)
    raw, secret_id = rules.new_secret(), new_id()

    async def work(session: AsyncSession) -> tuple[WebhookSecret, datetime | None]:
        if await partners_store.lock(session, partner_id) is None:  # rotations of one partner take turns
            raise NotFound("no partner with this id", id=str(partner_id))
        previous = await store.retire_secrets(session, partner_id, overlap, purpose)
        return await add_secret(session, partner_id, purpose, raw, secret_id), previous

    row, previous = await db.run_transaction(work)
    return RotatedSecret(secret=rules.secret_text(raw), info=SecretInfo.of(row), previous_expires_at=previous)


async def add_secret(
    session: AsyncSession, partner_id: uuid.UUID, purpose: SecretPurpose, raw: bytes, secret_id: uuid.UUID | None = None
) -> WebhookSecret:
    """Stores `raw` (32 bytes) wrapped as a current secret of the partner, in the caller's
    transaction (rotation retires the current one first; the demo seed adds a known one)."""
    secret_id = secret_id or new_id()
    wrapped = wrap_data_key(raw, field_aad(secret_id, _secret_field(purpose)))
    return await store.insert_secret(session, {"id": secret_id, "partner_id": partner_id, "purpose": purpose.value, "secret": wrapped})


async def secrets_of(
    db: Database, principal: Principal, partner_ids: Sequence[uuid.UUID], purpose: SecretPurpose = SecretPurpose.WEBHOOK
) -> list[list[SecretInfo] | None]:
    """Each partner's signing secrets (when made, when they stop); None where the caller may not see them."""
    visible = [i for i in partner_ids if access.may_read_partner_private(principal, i)]
    async with db.session() as session:
        found = await store.active_secrets(session, visible, purpose)
    return [[SecretInfo.of(s) for s in found[i]] if i in found else None for i in partner_ids]


async def deliveries_of(
    db: Database,
    principal: Principal,
    partner_ids: Sequence[uuid.UUID],
    *,
    status: DeliveryStatus | None = None,
    first: int | None = None,
    after: str | None = None,
) -> list[Page[DeliveryView] | None]:
    """Each partner's delivery log, newest first (one query for all the partners); None where the
    caller may not see it (the partner itself, staff and services may)."""
    request = PageRequest(first, after, cursor_types=(datetime, uuid.UUID))
    visible = [i for i in partner_ids if access.may_read_partner_private(principal, i)]
    async with db.session() as session:
        found = await store.pages(session, visible, status=status, after=request.after_values, limit=request.fetch_limit)  # type: ignore[arg-type]
    answers: list[Page[DeliveryView] | None] = []
    for partner_id in partner_ids:
        if partner_id not in found:
            answers.append(None)
            continue
        page = paginate(found[partner_id], request, key=lambda row: (row.created_at, row.id))
        answers.append(Page([DeliveryView.of(r) for r in page.rows], page.cursors, page.has_next_page, page.has_previous_page))
    return answers


async def redeliver_webhook(db: Database, principal: Principal, delivery_id: uuid.UUID) -> DeliveryView:
    """The partner or an operator: send a delivery again now (delivered, failed or waiting), with
    a fresh set of attempts; its log is kept. CONFLICT while an attempt is in flight."""
    require_authenticated(principal)

    async def work(session: AsyncSession) -> WebhookDelivery:
        row = await store.get_delivery(session, delivery_id)
        if row is None:
            raise NotFound("no webhook delivery with this id", id=str(delivery_id))
        access.require_partner_manager(principal, row.partner_id)
        again = await store.redeliver(session, delivery_id)
        if again is None:
            raise Conflict("an attempt of this delivery is in flight; ask again once it is recorded")
        return again

    answer = DeliveryView.of(await db.run_transaction(work))
    wake()
    return answer


async def ping_webhook(db: Database, principal: Principal, partner_id: uuid.UUID) -> uuid.UUID:
    """The partner or an operator: a `benefits.WebhookPing` event to the partner's endpoint, to try
    the endpoint and its signature check. Returns the event id (the delivery follows shortly)."""
    access.require_partner_manager(principal, partner_id)

    async def work(session: AsyncSession) -> uuid.UUID:
        if partner_id not in await partners_store.existing_ids(session, [partner_id]):
            raise NotFound("no partner with this id", id=str(partner_id))
        return await publish_event(session, WEBHOOK_PING, {"partnerId": str(partner_id)})

    return await db.run_transaction(work)


async def fan_out(db: Database, events: Sequence[Event]) -> Mapping[uuid.UUID, str | None]:
    """The outbox's `webhooks` subscriber: one pending delivery per (event, partner it concerns),
    idempotent, so a batch handed over twice changes nothing. A partner without a webhook endpoint
    takes no webhooks (nothing is queued for it); an event that names no registered partner is
    acknowledged and logged (no retry would help it)."""
    wanted = {event.id: rules.partner_ids(event.payload) for event in events}

    async def work(session: AsyncSession) -> int:
        named = [p for ids in wanted.values() for p in ids]
        known = await partners_store.existing_ids(session, named)
        listening = await partners_store.with_webhook_url(session, known)
        rows = [
            {"id": new_id(), "event_id": event.id, "partner_id": partner_id, "event_type": event.type,
             "payload": rules.envelope(event)}
            for event in events
            for partner_id in wanted[event.id]
            if partner_id in listening
        ]
        for event in events:
            if not any(p in known for p in wanted[event.id]):
                log.warning("event %s (%s) names no registered partner; no webhook sent", event.id, event.type)
        return await store.insert_deliveries(session, rows)

    if await db.run_transaction(work):
        wake()
    return {event.id: None for event in events}


# --- waking the delivery loop -----------------------------------------------------------------------

_wakers: set[asyncio.Event] = set()


def register_waker(waker: asyncio.Event) -> None:
    _wakers.add(waker)


def unregister_waker(waker: asyncio.Event) -> None:
    _wakers.discard(waker)


def wake() -> None:
    """Deliveries became due in this process: the running delivery loop goes at once."""
    for waker in list(_wakers):
        waker.set()
