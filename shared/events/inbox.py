"""Consuming events exactly once in effect: the inbox remembers every event id it has taken.

Each event runs in its own transaction: record the id (ON CONFLICT DO NOTHING), and only if it is
new, run the handler; commit both or neither. A redelivery finds the id and changes nothing; two
concurrent deliveries of one event serialise on the inbox's primary key, so one handler runs.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Awaitable, Callable, Collection, Mapping
from typing import Any

import orjson
from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shared.auth.principals import Principal
from shared.auth.tokens import principal_from_authorization_header
from shared.database import Database
from shared.errors import DomainError, Forbidden, InvalidInput, Unauthenticated
from shared.events.event import Event

log = logging.getLogger("abg.events")

Handler = Callable[[AsyncSession, Event], Awaitable[None]]

MAX_BATCH = 1000
MAX_ERROR_LENGTH = 500


class Outcome(str, enum.Enum):
    ACCEPTED = "accepted"  # new, and handled
    DUPLICATE = "duplicate"  # seen before: nothing done
    IGNORED = "ignored"  # new, but no handler for its type: recorded and acknowledged


async def consume(db: Database, inbox: Table, handlers: Mapping[str, Handler], event: Event) -> Outcome:
    """Takes one event; a handler's exception propagates after its transaction rolled back
    (the inbox row with it, so a redelivery tries again)."""

    async def work(session: AsyncSession) -> Outcome:
        handler = handlers.get(event.type)
        inserted = await session.exec(  # type: ignore[call-overload]
            insert(inbox)
            .values(event_id=event.id, type=event.type, producer=event.producer, handled=handler is not None)
            .on_conflict_do_nothing(index_elements=[inbox.c.event_id])
            .returning(inbox.c.event_id)
        )
        if inserted.first() is None:
            return Outcome.DUPLICATE
        if handler is None:
            # Retrying would not help: a later version of this service cannot be waited for here.
            log.warning("no handler for event type %s (event %s from %s); acknowledged", event.type, event.id, event.producer)
            return Outcome.IGNORED
        await handler(session, event)
        return Outcome.ACCEPTED

    # Serialization failures and deadlocks retry the whole event: handler included, rolled back first.
    return await db.run_transaction(work)


def event_route(
    service_name: str,
    inbox: Table,
    handlers: Mapping[str, Handler],
    *,
    db: Database | None = None,
    path: str = "/events",
    publishers: Collection[str] | None = None,
) -> Route:
    """POST `path`: a batch `{"events": [...]}` from another service; answers which were taken.

    Only service principals may call it. Inside `create_subgraph_app` the middleware has already
    authenticated the caller and `db` defaults to the app's database; elsewhere pass `db`.
    `publishers`: the services that may deliver here; by default those whose events the handlers
    take (the prefix of each type, `points` for `points.PurchaseRecorded`)."""
    senders = frozenset(publishers if publishers is not None else (t.partition(".")[0] for t in handlers if "." in t))

    async def endpoint(request: Request) -> Response:
        try:
            caller = _service_caller(request)
            if caller.subject not in senders:
                raise Forbidden(f"service {caller.subject!r} publishes nothing {service_name} consumes")
            events = _parse_batch(await request.body())
            foreign = sorted({e.producer for e in events} - {caller.subject})
            if foreign:  # one service must not be able to speak for another
                raise Forbidden(
                    f"service {caller.subject!r} may only deliver its own events, not {', '.join(foreign)}'s"
                )
        except DomainError as error:
            return _error_response(error)
        database = db if db is not None else request.app.state.service.db
        answer: dict[str, list[Any]] = {"accepted": [], "duplicates": [], "ignored": [], "failed": []}
        for event in events:
            try:
                outcome = await consume(database, inbox, handlers, event)
            except Exception as exc:  # noqa: BLE001 - one bad event must not fail its batch
                log.exception("%s: handling event %s (%s) failed", service_name, event.id, event.type)
                message = f"{type(exc).__name__}: {exc}"[:MAX_ERROR_LENGTH]
                answer["failed"].append({"id": str(event.id), "error": message})
                continue
            key = {Outcome.ACCEPTED: "accepted", Outcome.DUPLICATE: "duplicates", Outcome.IGNORED: "ignored"}[outcome]
            answer[key].append(str(event.id))
        return Response(orjson.dumps(answer), media_type="application/json")

    return Route(path, endpoint, methods=["POST"], name=f"{service_name}:events")


def _service_caller(request: Request) -> Principal:
    principal = getattr(request.state, "principal", None)
    if principal is None:  # mounted without the subgraph middleware: authenticate here
        principal = principal_from_authorization_header(request.headers.get("authorization"))
    if principal.is_anonymous:
        raise Unauthenticated("authentication required: send an Authorization: Bearer <service token> header")
    if not principal.is_service:
        raise Forbidden("only an alliance service may deliver events")
    return principal


def _parse_batch(body: bytes) -> list[Event]:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise InvalidInput("the body must be JSON: {\"events\": [...]}") from None
    events = data.get("events") if isinstance(data, dict) else None
    if not isinstance(events, list):
        raise InvalidInput("the body must be a JSON object with an \"events\" list")
    if len(events) > MAX_BATCH:
        raise InvalidInput(f"at most {MAX_BATCH} events per request")
    parsed = [Event.from_wire(item) for item in events]
    if len({e.id for e in parsed}) != len(parsed):
        raise InvalidInput("an event id appears twice in the batch")
    return parsed


_STATUS = {Unauthenticated: 401, Forbidden: 403}


def _error_response(error: DomainError) -> Response:
    status = _STATUS.get(type(error), 400)
    body = orjson.dumps({"errors": [{"message": error.message, "extensions": error.as_extensions()}]})
    headers = {"www-authenticate": 'Bearer error="invalid_token"'} if status == 401 else None
    return Response(body, status_code=status, media_type="application/json", headers=headers)
