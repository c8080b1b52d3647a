"""Publishing: the event is written in the caller's transaction, so it exists iff the change committed.

Delivery happens later (see `dispatcher`). After the publishing transaction commits, dispatchers in
this process are woken at once; dispatchers in other processes find the event on their next poll.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import orjson
from sqlalchemy import event as sa_event
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.events.tables import MAX_SERVICE_NAME_LENGTH, MAX_TYPE_LENGTH, OutboxTables
from shared.ids import new_id


class EventSubscriptions(Mapping[str, tuple[str, ...]]):
    """Which services receive each event type a producer publishes, e.g.
    `EventSubscriptions({"TierChanged": ["points", "benefits"], "MemberErased": []})`.

    Every published type must be listed (with no subscribers if none yet): looking up an unlisted
    type raises `KeyError`, so a misspelt type fails in tests instead of silently reaching nobody.
    """

    def __init__(self, subscriptions: Mapping[str, Sequence[str]]) -> None:
        self._by_type = {type_: _unique(subscribers) for type_, subscribers in subscriptions.items()}

    def __getitem__(self, type_: str) -> tuple[str, ...]:
        try:
            return self._by_type[type_]
        except KeyError:
            raise KeyError(f"event type {type_!r} has no subscription entry; add it to the service's EventSubscriptions") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_type)

    def __len__(self) -> int:
        return len(self._by_type)


async def publish(
    session: AsyncSession,
    tables: OutboxTables,
    *,
    type: str,
    payload: dict[str, Any],
    subscribers: Sequence[str],
    producer: str | None = None,
) -> uuid.UUID:
    """Writes the event and one pending delivery per subscriber in the session's transaction.

    `payload` must be JSON-serialisable; UUIDs and datetimes become strings (as consumers see them).
    `producer` defaults to the outbox's schema, which is the service's name; subscribers accept an
    event only from the service it names, so it must match the dispatcher's `service_name`."""
    if not type or len(type) > MAX_TYPE_LENGTH:
        raise ValueError(f"event type must be 1..{MAX_TYPE_LENGTH} characters")
    producer = producer or tables.events.schema or ""
    if not producer:
        raise ValueError("the outbox tables have no schema; name the producer")
    # Normalised now rather than at delivery: a payload that cannot be JSON must fail the change.
    body = orjson.loads(orjson.dumps(payload))
    if not isinstance(body, dict):
        raise ValueError("event payload must be a JSON object")
    targets = _unique(subscribers)
    if any(not s or len(s) > MAX_SERVICE_NAME_LENGTH for s in targets):
        raise ValueError(f"subscriber names must be 1..{MAX_SERVICE_NAME_LENGTH} characters")
    event_id = new_id()
    await session.exec(  # type: ignore[call-overload]
        insert(tables.events).values(id=event_id, type=type, payload=body, producer=producer)
    )
    if targets:
        await session.exec(  # type: ignore[call-overload]
            insert(tables.deliveries).values([{"event_id": event_id, "subscriber": s} for s in targets])
        )
        _wake_after_commit(session, tables.key)
    return event_id


def _unique(names: Sequence[str]) -> tuple[str, ...]:
    if isinstance(names, str):  # a lone name would otherwise become one subscriber per letter
        raise TypeError("subscribers must be a sequence of service names, not a string")
    return tuple(dict.fromkeys(names))


# In-process wake-up: each running dispatcher registers an asyncio.Event under its outbox's key.
_wakers: dict[str, set[asyncio.Event]] = {}
_PENDING_WAKES = "abg.outbox.pending_wakes"
_HOOKED = "abg.outbox.hooked"


def register_waker(key: str, waker: asyncio.Event) -> None:
    _wakers.setdefault(key, set()).add(waker)


def unregister_waker(key: str, waker: asyncio.Event) -> None:
    wakers = _wakers.get(key)
    if wakers is not None:
        wakers.discard(waker)
        if not wakers:
            del _wakers[key]


def wake_dispatchers(key: str) -> None:
    for waker in list(_wakers.get(key, ())):
        waker.set()


def _wake_after_commit(session: AsyncSession, key: str) -> None:
    """Wakes dispatchers only once the publishing transaction has committed: woken earlier, they
    would not see the uncommitted rows and would go back to sleep for a whole poll interval."""
    sync = session.sync_session
    sync.info.setdefault(_PENDING_WAKES, set()).add(key)
    if not sync.info.get(_HOOKED):
        sa_event.listen(sync, "after_commit", _on_commit)
        sa_event.listen(sync, "after_rollback", _on_rollback)
        sync.info[_HOOKED] = True


def _on_commit(sync: Session) -> None:
    for key in sync.info.pop(_PENDING_WAKES, set()):
        wake_dispatchers(key)


def _on_rollback(sync: Session) -> None:
    sync.info.pop(_PENDING_WAKES, None)
