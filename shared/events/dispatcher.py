"""Delivering the outbox: at least once, over HTTP, to each subscriber's `/events` endpoint.

One round (`dispatch_once`) does three things, and never holds a transaction across the network:
1. claim: a short transaction leases due deliveries (`FOR UPDATE SKIP LOCKED`, so concurrent
   dispatchers, in this process or others, take disjoint rows) and counts the attempt;
2. send: one POST per subscriber (batched), with this service's bearer token;
3. record: a short transaction marks each delivery delivered, retried later (exponential backoff
   with jitter) or dead after the last attempt - but only while the lease is still ours.
A crash between 2 and 3 leaves the lease to expire and the event is sent again; the subscriber's
inbox drops the duplicate. Consumers must not rely on order: retries overtake one another.

A subscriber may also live in the producing process itself (`local`): its batches are handed to
an async function instead of POSTed, with the same leases, retries and dead letters. The function
must be idempotent by event id (a crash between handing over and recording repeats it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
import orjson
from sqlalchemy import Interval, bindparam, func, or_, select, update

from shared.auth.tokens import service_token
from shared.database import Database
from shared.events.event import Claimed, Event
from shared.events.local import LocalSubscriber, hand_over
from shared.events.maintenance import purge_delivered
from shared.events.outbox import register_waker, unregister_waker
from shared.events.tables import DEAD, DELIVERED, PENDING, OutboxTables
from shared.http import get_http_client
from shared.settings import Settings, get_settings

log = logging.getLogger("abg.events")

MAX_ERROR_LENGTH = 1000


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with jitter: attempt n waits between half and all of base * 2^(n-1),
    capped. The defaults keep retrying a subscriber that is down for about two hours."""

    base_seconds: float = 1.0
    max_seconds: float = 900.0
    max_attempts: int | None = None  # None: settings.outbox_max_attempts

    def delay(self, attempts: int, rand: Callable[[], float] = random.random) -> float:
        step = min(self.max_seconds, self.base_seconds * 2 ** max(attempts - 1, 0))
        # Jitter spreads retries of many events (and dispatchers) so a recovering subscriber is
        # not hit by all of them at once; the lower half-bound keeps the backoff meaningful.
        return step * (0.5 + rand() / 2)


@dataclass(slots=True)
class DispatchResult:
    claimed: int = 0
    delivered: int = 0
    retried: int = 0
    dead: int = 0

    def add(self, other: "DispatchResult") -> None:
        self.claimed += other.claimed
        self.delivered += other.delivered
        self.retried += other.retried
        self.dead += other.dead


def default_lease_seconds(settings: Settings) -> float:
    # Long enough for a POST that runs into every httpx timeout; short enough that a crashed
    # dispatcher's deliveries are retried within a minute or so.
    return max(30.0, 6 * settings.http_timeout_seconds)


def events_url(settings: Settings, subscriber: str) -> str:
    """`<base>/events` where `<base>` is the subscriber's GraphQL URL without `/graphql`."""
    base = settings.url_of(subscriber).rstrip("/")
    if base.endswith("/graphql"):
        base = base[: -len("/graphql")]
    return f"{base}/events"


async def dispatch_once(
    db: Database,
    service_name: str,
    tables: OutboxTables,
    *,
    settings: Settings | None = None,
    client: httpx.AsyncClient | None = None,
    retry: RetryPolicy | None = None,
    lease_seconds: float | None = None,
    limit: int | None = None,
    local: Mapping[str, LocalSubscriber] | None = None,
    subscribers: Collection[str] | None = None,
) -> DispatchResult:
    """Claims up to `limit` due deliveries (of `subscribers` only, if given), sends them (or hands
    them to the `local` subscriber of that name), records the outcomes."""
    settings = settings or get_settings()
    retry = retry or RetryPolicy()
    lease = timedelta(seconds=lease_seconds if lease_seconds is not None else default_lease_seconds(settings))
    claimed = await claim(
        db, tables, limit=limit or settings.outbox_batch_size, lease=lease, subscribers=subscribers
    )
    result = DispatchResult(claimed=len(claimed))
    if not claimed:
        return result
    local = local or {}
    if client is None and any(row.subscriber not in local for row in claimed):
        client = get_http_client(settings)
    by_subscriber: dict[str, list[Claimed]] = {}
    for row in claimed:
        by_subscriber.setdefault(row.subscriber, []).append(row)
    batches = [
        batch
        for rows in by_subscriber.values()
        for batch in _batches(rows, max_bytes=max(settings.max_body_bytes // 2, 1))
    ]
    # Every batch finishes (and records) before an error of one is raised: no orphaned sends.
    outcomes = await asyncio.gather(
        *(_deliver(db, service_name, tables, batch, settings, client, retry, local) for batch in batches),
        return_exceptions=True,
    )
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome
        result.add(outcome)
    return result


async def claim(
    db: Database,
    tables: OutboxTables,
    *,
    limit: int,
    lease: timedelta,
    subscribers: Collection[str] | None = None,
) -> list[Claimed]:
    d, e = tables.deliveries, tables.events
    now = func.now()
    only = [d.c.subscriber.in_(list(subscribers))] if subscribers is not None else []
    due = (
        select(d.c.event_id, d.c.subscriber)
        .where(
            d.c.status == PENDING,
            d.c.next_attempt_at <= now,
            or_(d.c.leased_until.is_(None), d.c.leased_until <= now),
            *only,
        )
        .order_by(d.c.next_attempt_at, d.c.event_id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .cte("due")
    )
    statement = (
        update(d)
        .where(d.c.event_id == due.c.event_id, d.c.subscriber == due.c.subscriber, e.c.id == d.c.event_id)
        .values(attempts=d.c.attempts + 1, leased_until=now + bindparam("lease", lease, type_=Interval))
        .returning(
            d.c.subscriber, d.c.attempts, d.c.leased_until,
            e.c.id, e.c.type, e.c.payload, e.c.occurred_at, e.c.producer,
        )
    )
    async with db.engine.begin() as connection:
        rows = (await connection.execute(statement)).all()
    return sorted(
        (
            Claimed(
                event=Event(id=r.id, type=r.type, payload=r.payload, occurred_at=r.occurred_at, producer=r.producer),
                subscriber=r.subscriber,
                attempts=r.attempts,
                leased_until=r.leased_until,
            )
            for r in rows
        ),
        key=lambda c: c.event.id,  # UUIDv7: oldest first within a batch
    )


def _batches(rows: Sequence[Claimed], *, max_bytes: int) -> Iterator[list[Claimed]]:
    """Splits one subscriber's deliveries so no request body outgrows the subscriber's limit."""
    batch: list[Claimed] = []
    size = 0
    for row in rows:
        row_size = len(orjson.dumps(row.event.to_wire())) + 1
        if batch and size + row_size > max_bytes:
            yield batch
            batch, size = [], 0
        batch.append(row)
        size += row_size
    if batch:
        yield batch


async def _deliver(
    db: Database,
    service_name: str,
    tables: OutboxTables,
    batch: list[Claimed],
    settings: Settings,
    client: httpx.AsyncClient | None,
    retry: RetryPolicy,
    local: Mapping[str, LocalSubscriber],
) -> DispatchResult:
    take = local.get(batch[0].subscriber)
    if take is not None:
        errors = await hand_over(take, db, batch)
    else:
        assert client is not None  # made whenever a batch goes over HTTP
        errors = await send_batch(service_name, batch, settings, client)
    return await record_outcome(db, tables, batch, errors, retry, settings)


async def send_batch(
    service_name: str, batch: list[Claimed], settings: Settings, client: httpx.AsyncClient
) -> dict[object, str | None]:
    """POSTs one subscriber's batch; returns event id -> None (acknowledged) or the error."""
    subscriber = batch[0].subscriber

    def all_failed(error: str) -> dict[object, str | None]:
        return {row.event.id: error for row in batch}

    try:
        url = events_url(settings, subscriber)
    except AttributeError:
        return all_failed(f"no URL is configured for subscriber {subscriber!r}")
    body = orjson.dumps({"events": [row.event.to_wire() for row in batch]})
    headers = {
        "content-type": "application/json",
        "authorization": f"Bearer {service_token(service_name, settings)}",
    }
    try:
        response = await client.post(url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        return all_failed(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
    if response.status_code != 200:
        return all_failed(f"HTTP {response.status_code}: {response.text[:300]}")
    try:
        answer = orjson.loads(response.content)
        acknowledged = {
            str(i) for key in ("accepted", "duplicates", "ignored") for i in answer.get(key, [])
        }
        failed = {str(f.get("id")): str(f.get("error")) for f in answer.get("failed", [])}
    except (orjson.JSONDecodeError, AttributeError, TypeError):
        return all_failed("the subscriber's answer is not an events acknowledgement")
    return {
        row.event.id: None
        if str(row.event.id) in acknowledged
        else failed.get(str(row.event.id), "not acknowledged by the subscriber")
        for row in batch
    }


async def record_outcome(
    db: Database,
    tables: OutboxTables,
    batch: list[Claimed],
    errors: dict[object, str | None],
    retry: RetryPolicy,
    settings: Settings,
) -> DispatchResult:
    """Marks delivered / retry later / dead, each only where our lease still holds: a dispatcher
    that outlived its lease must not overwrite what the one that took over has recorded."""
    d = tables.deliveries
    subscriber, lease = batch[0].subscriber, batch[0].leased_until
    max_attempts = retry.max_attempts or settings.outbox_max_attempts
    delivered = [row.event.id for row in batch if errors.get(row.event.id) is None]
    failures = [
        {
            "b_event_id": row.event.id,
            "b_status": DEAD if row.attempts >= max_attempts else PENDING,
            "b_delay": timedelta(seconds=retry.delay(row.attempts)),
            "b_error": (errors[row.event.id] or "")[:MAX_ERROR_LENGTH],
        }
        for row in batch
        if errors.get(row.event.id) is not None
    ]
    ours = (d.c.subscriber == subscriber, d.c.leased_until == lease, d.c.status == PENDING)
    async with db.engine.begin() as connection:
        if delivered:
            await connection.execute(
                update(d)
                .where(d.c.event_id.in_(delivered), *ours)
                .values(status=DELIVERED, delivered_at=func.now(), leased_until=None, last_error=None)
            )
        if failures:
            await connection.execute(
                update(d)
                .where(d.c.event_id == bindparam("b_event_id"), *ours)
                .values(
                    status=bindparam("b_status"),
                    next_attempt_at=func.now() + bindparam("b_delay", type_=Interval),
                    leased_until=None,
                    last_error=bindparam("b_error"),
                ),
                failures,
            )
    result = DispatchResult(delivered=len(delivered))
    for failure, row in zip(failures, (r for r in batch if errors.get(r.event.id) is not None)):
        if failure["b_status"] == DEAD:
            result.dead += 1
            log.error(
                "event %s (%s) to %s is dead after %d attempts: %s",
                row.event.id, row.event.type, subscriber, row.attempts, failure["b_error"],
            )
        else:
            result.retried += 1
    if result.retried:
        log.warning(
            "%d event(s) to %s not delivered, will retry: %s",
            result.retried, subscriber, failures[0]["b_error"],
        )
    return result


def outbox_dispatcher(
    service_name: str,
    tables: OutboxTables,
    *,
    settings: Settings | None = None,
    client: httpx.AsyncClient | None = None,
    retry: RetryPolicy | None = None,
    lease_seconds: float | None = None,
    local: Mapping[str, LocalSubscriber] | None = None,
) -> Callable[[Database], Awaitable[None]]:
    """A background loop for `create_subgraph_app(background=[...])`: dispatches until cancelled,
    woken at once by commits in this process that publish, else every poll interval. `local`:
    subscribers served in this process (see `dispatch_once`)."""

    async def run(db: Database) -> None:
        waker = asyncio.Event()
        register_waker(tables.key, waker)
        failures = 0
        next_purge = 0.0
        loop = asyncio.get_running_loop()
        try:
            while True:
                current = settings or get_settings()
                if current.outbox_retention_days > 0 and loop.time() >= next_purge:
                    next_purge = loop.time() + current.outbox_purge_interval_seconds
                    await _purge_quietly(db, service_name, tables, timedelta(days=current.outbox_retention_days))
                waker.clear()  # before the round: a publish during it triggers another at once
                try:
                    result = await dispatch_once(
                        db, service_name, tables,
                        settings=current, client=client, retry=retry, lease_seconds=lease_seconds, local=local,
                    )
                    failures = 0
                except Exception:  # the database or the network hiccuped; keep the loop alive
                    failures += 1
                    log.exception("outbox dispatch of %s failed (%d in a row)", service_name, failures)
                    await asyncio.sleep(min(30.0, current.outbox_poll_interval_seconds * 2**failures))
                    continue
                if result.claimed >= current.outbox_batch_size:
                    continue  # a full batch: more are probably due
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(waker.wait(), current.outbox_poll_interval_seconds)
        finally:
            unregister_waker(tables.key, waker)

    run.__name__ = f"outbox_dispatcher[{service_name}]"
    return run


async def _purge_quietly(db: Database, service_name: str, tables: OutboxTables, age: timedelta) -> None:
    try:
        purged = await purge_delivered(db, tables, older_than=age)
    except Exception:  # retention must never stop delivery
        log.exception("purging the delivered outbox of %s failed", service_name)
        return
    if purged:
        log.info("purged %d delivered outbox events of %s older than %s", purged, service_name, age)
