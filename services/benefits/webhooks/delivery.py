"""Sending webhooks: a round leases due deliveries, POSTs each to its partner's endpoint, signed,
outside any transaction, and records every attempt.

1. lease: a short transaction takes up to a batch of due deliveries (`FOR UPDATE SKIP LOCKED`, so
   rounds here and in other processes take disjoint rows) and counts the attempt;
2. send: one POST each, concurrently, through this process's client for partners (partner_http: its
   own timeouts; no redirects followed; no proxy from the environment), signed with every active
   secret of the partner at the time of sending (`ABG-Signature: t=<now>,v1=…`);
3. record: a short transaction logs the attempt (time, URL, HTTP status, error, latency) and sets
   the outcome, only while the lease is still ours: DELIVERED on a 2xx; else tried again after a
   growing delay, or FAILED after settings.webhook_max_attempts (a partner or an operator may
   redeliver it). A delivery with nowhere to go (no webhook URL, no signing secret) fails at once.
A crash between 2 and 3 lets the lease run out and the delivery is sent again with the same event
id: partners drop duplicates by that id.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
import orjson

from shared.database import Database
from shared.timeutil import utcnow

from services.benefits.config import BenefitsSettings, get_benefits_settings
from services.benefits.models import Partner, WebhookDelivery
from services.benefits.partner_http import aclose_partner_client, partner_client
from services.benefits.partners import store as partners_store
from services.benefits.webhooks import rules, service, store
from services.benefits.webhooks.rules import DeliveryStatus
from services.benefits.webhooks.signing import SIGNATURE_HEADER, sign

log = logging.getLogger("abg.benefits.webhooks")


@dataclass(slots=True)
class RoundResult:
    leased: int = 0
    delivered: int = 0
    retried: int = 0
    failed: int = 0


@dataclass(frozen=True, slots=True)
class Outcome:
    ok: bool
    at: datetime
    url: str | None
    http_status: int | None = None
    error: str | None = None
    latency_ms: int | None = None
    final: bool = False  # no point in trying again by itself (nowhere to send it)


# --- the client --------------------------------------------------------------------------------------

# The process's client for partners' endpoints, shared with fulfilment calls (services.benefits.partner_http).
webhook_client = partner_client
aclose_webhook_client = aclose_partner_client


# --- one round -----------------------------------------------------------------------------------------


async def deliver_due(db: Database, *, client: httpx.AsyncClient | None = None, limit: int | None = None) -> RoundResult:
    """Leases, sends and records up to `limit` due deliveries."""
    settings = get_benefits_settings()
    lease = timedelta(seconds=2 * settings.webhook_timeout_seconds + 30)
    async with db.engine.begin() as connection:
        leased = await store.lease_due(connection, limit=limit or settings.webhook_batch_size, lease=lease)
    result = RoundResult(leased=len(leased))
    if not leased:
        return result
    partner_ids = {d.partner_id for d in leased}
    async with db.session() as session:
        partners = await partners_store.load(session, partner_ids)
        secrets = await store.active_secrets(session, partner_ids)
    keys = {partner_id: service.signing_keys(rows) for partner_id, rows in secrets.items()}
    http = client or webhook_client(settings)
    outcomes = await asyncio.gather(
        *(_attempt(http, d, partners.get(d.partner_id), keys.get(d.partner_id, [])) for d in leased)
    )
    async with db.engine.begin() as connection:
        for delivery, outcome in zip(leased, outcomes):
            status, retry_in = _decide(delivery, outcome, settings)
            entry = rules.attempt_entry(
                at=outcome.at, attempt=delivery.attempts, url=outcome.url, http_status=outcome.http_status,
                error=outcome.error, latency_ms=outcome.latency_ms,
            )
            if not await store.record_attempt(connection, delivery, status=status, entry=entry, retry_in=retry_in):
                continue  # the lease ran out meanwhile: whoever holds it now records
            if status is DeliveryStatus.DELIVERED:
                result.delivered += 1
            elif status is DeliveryStatus.FAILED:
                result.failed += 1
                log.warning("webhook %s (%s) to partner %s failed: %s", delivery.id, delivery.event_type, delivery.partner_id, outcome.error)
            else:
                result.retried += 1
    return result


def _decide(delivery: WebhookDelivery, outcome: Outcome, settings: BenefitsSettings) -> tuple[DeliveryStatus, timedelta | None]:
    if outcome.ok:
        return DeliveryStatus.DELIVERED, None
    if outcome.final or delivery.attempts >= settings.webhook_max_attempts:
        return DeliveryStatus.FAILED, None
    delay = rules.retry_delay(
        delivery.attempts, base_seconds=settings.webhook_retry_base_seconds, max_seconds=settings.webhook_retry_max_seconds
    )
    return DeliveryStatus.PENDING, timedelta(seconds=delay)


async def _attempt(client: httpx.AsyncClient, delivery: WebhookDelivery, partner: Partner | None, keys: list[bytes]) -> Outcome:
    at = utcnow()
    url = partner.webhook_url if partner is not None else None
    if not url:
        return Outcome(ok=False, at=at, url=None, error="the partner has no webhook URL", final=True)
    if not keys:
        return Outcome(ok=False, at=at, url=url, error="the partner has no webhook signing secret (rotateWebhookSecret makes one)", final=True)
    body = orjson.dumps(delivery.payload)
    headers = {
        "content-type": "application/json",
        SIGNATURE_HEADER: sign(body, keys, int(time.time())),
        "ABG-Event-Id": str(delivery.event_id),
        "ABG-Event-Type": delivery.event_type,
        "ABG-Delivery-Id": str(delivery.id),
        "ABG-Delivery-Attempt": str(delivery.attempts),
    }
    began = time.monotonic()
    try:
        response = await client.post(url, content=body, headers=headers)
    except httpx.TimeoutException as exc:
        return Outcome(ok=False, at=at, url=url, error=f"timed out ({type(exc).__name__})", latency_ms=_since(began))
    except httpx.HTTPError as exc:
        return Outcome(ok=False, at=at, url=url, error=f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__, latency_ms=_since(began))
    latency = _since(began)
    if 200 <= response.status_code < 300:
        return Outcome(ok=True, at=at, url=url, http_status=response.status_code, latency_ms=latency)
    reason = response.text[:200] if response.content else ""
    return Outcome(ok=False, at=at, url=url, http_status=response.status_code, error=f"HTTP {response.status_code} {reason}".strip(), latency_ms=latency)


def _since(began: float) -> int:
    return int((time.monotonic() - began) * 1000)


# --- the loop --------------------------------------------------------------------------------------------


async def webhook_loop(db: Database) -> None:
    """A background loop for the app: rounds until cancelled, at once when deliveries become due in
    this process, else every settings.job_interval_seconds (0 turns the loop off)."""
    if get_benefits_settings().job_interval_seconds <= 0:
        return
    waker = asyncio.Event()
    service.register_waker(waker)
    try:
        while True:
            interval = get_benefits_settings().job_interval_seconds
            waker.clear()
            try:
                result = await deliver_due(db)
            except Exception:  # the database hiccuped: keep the loop alive
                log.exception("webhook delivery round failed")
                await asyncio.sleep(interval)
                continue
            if result.leased >= get_benefits_settings().webhook_batch_size:
                continue  # a full round: more are probably due
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(waker.wait(), interval)
    finally:
        service.unregister_waker(waker)
