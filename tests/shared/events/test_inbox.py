"""The inbox: idempotent consumption, and who may post to /events."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
import strawberry
from starlette.applications import Starlette

from shared.auth.tokens import mint_token, service_token
from shared.events import Event, Outcome, consume, event_route
from shared.federation import build_schema, create_subgraph_app
from tests.shared.events.support import PRODUCER, SUBSCRIBER, Behaviour, Env, handlers_for


def _event(type_: str = "PointsEarned", producer: str = PRODUCER) -> Event:
    return Event(id=uuid.uuid4(), type=type_, payload={"amount": 3}, occurred_at=datetime.now(UTC), producer=producer)


async def test_a_redelivered_event_changes_nothing(env: Env) -> None:
    handlers = handlers_for(env, Behaviour())
    event = _event()
    assert await consume(env.db, env.inbox, handlers, event) is Outcome.ACCEPTED
    assert await consume(env.db, env.inbox, handlers, event) is Outcome.DUPLICATE
    assert await env.effect_event_ids() == {event.id: 1}


async def test_concurrent_deliveries_of_one_event_run_its_handler_once(env: Env) -> None:
    handlers = handlers_for(env, Behaviour())
    event = _event()
    outcomes = await asyncio.gather(*(consume(env.db, env.inbox, handlers, event) for _ in range(20)))
    assert outcomes.count(Outcome.ACCEPTED) == 1
    assert outcomes.count(Outcome.DUPLICATE) == 19
    assert await env.effect_event_ids() == {event.id: 1}


async def test_a_failed_handler_records_nothing_so_the_retry_runs_it(env: Env) -> None:
    behaviour = Behaviour(fragile_broken=True)
    handlers = handlers_for(env, behaviour)
    event = _event("Fragile")
    with pytest.raises(RuntimeError):
        await consume(env.db, env.inbox, handlers, event)
    assert await env.count(env.inbox) == 0
    assert await env.effect_event_ids() == {}
    behaviour.fragile_broken = False
    assert await consume(env.db, env.inbox, handlers, event) is Outcome.ACCEPTED
    assert await env.effect_event_ids() == {event.id: 1}


async def test_an_unknown_type_is_recorded_once_and_ignored(env: Env) -> None:
    event = _event("NotYetKnown")
    assert await consume(env.db, env.inbox, {}, event) is Outcome.IGNORED
    assert await consume(env.db, env.inbox, {}, event) is Outcome.DUPLICATE
    assert await env.count(env.inbox, env.inbox.c.handled.is_(False)) == 1


# /events, both standalone (the route authenticates itself) and inside a subgraph app (the
# middleware authenticates, and the route takes the app's database).


@strawberry.type
class Query:
    @strawberry.field
    def ok(self) -> bool:
        return True


# Benefits may deliver here too, so that its delivering points' events shows the producer check.
PUBLISHERS = (PRODUCER, "benefits")


@pytest.fixture(params=["standalone", "subgraph"])
async def client(request: pytest.FixtureRequest, env: Env) -> AsyncIterator[httpx.AsyncClient]:
    handlers = handlers_for(env, Behaviour())
    if request.param == "standalone":
        app = Starlette(routes=[event_route(SUBSCRIBER, env.inbox, handlers, db=env.db, publishers=PUBLISHERS)])
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://members") as c:
            yield c
        return
    app = create_subgraph_app(
        service=SUBSCRIBER, schema=build_schema(query=Query), routes=[event_route(SUBSCRIBER, env.inbox, handlers, publishers=PUBLISHERS)]
    )
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://members") as c:
            yield c


def _body(*events: Event) -> dict:
    return {"events": [e.to_wire() for e in events]}


def _bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ({}, 401, "UNAUTHENTICATED"),
        (_bearer("not-a-token"), 401, "UNAUTHENTICATED"),
        ("member", 403, "FORBIDDEN"),
        ("partner", 403, "FORBIDDEN"),
        ("operator", 403, "FORBIDDEN"),
        ("staff-named-like-the-producer", 403, "FORBIDDEN"),  # a staff user is no service, whatever its name
    ],
)
async def test_only_services_may_deliver_events(
    client: httpx.AsyncClient, env: Env, headers: dict | str, status: int, code: str
) -> None:
    if headers == "member":
        headers = _bearer(mint_token("member", uuid.uuid4()))
    elif headers == "partner":
        headers = _bearer(mint_token("partner", uuid.uuid4()))
    elif headers == "operator":
        headers = _bearer(mint_token("staff", "ops-1", roles=["operator"]))
    elif headers == "staff-named-like-the-producer":
        headers = _bearer(mint_token("staff", PRODUCER, roles=["operator"]))
    response = await client.post("/events", json=_body(_event()), headers=headers)
    assert response.status_code == status
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == code and error["message"]
    assert await env.count(env.inbox) == 0


async def test_a_service_delivers_and_gets_an_acknowledgement_per_event(client: httpx.AsyncClient, env: Env) -> None:
    fresh, unknown, failing = _event(), _event("NotYetKnown"), _event("Fragile")
    await client.post("/events", json=_body(fresh), headers=_bearer(service_token(PRODUCER)))
    response = await client.post(
        "/events", json=_body(fresh, unknown, failing), headers=_bearer(service_token(PRODUCER))
    )
    assert response.status_code == 200
    answer = response.json()
    assert answer["accepted"] == [] and answer["duplicates"] == [str(fresh.id)]
    assert answer["ignored"] == [str(unknown.id)]
    assert [f["id"] for f in answer["failed"]] == [str(failing.id)]
    assert await env.effect_event_ids() == {fresh.id: 1}


async def test_a_service_cannot_deliver_another_services_events(client: httpx.AsyncClient, env: Env) -> None:
    response = await client.post(
        "/events", json=_body(_event(producer=PRODUCER)), headers=_bearer(service_token("benefits"))
    )
    assert response.status_code == 403
    assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await env.count(env.inbox) == 0


@pytest.mark.parametrize("caller", ["redemptions", "gateway"])
async def test_a_service_that_is_not_a_publisher_here_is_refused(client: httpx.AsyncClient, env: Env, caller: str) -> None:
    response = await client.post("/events", json=_body(_event(producer=caller)), headers=_bearer(service_token(caller)))
    assert response.status_code == 403
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "FORBIDDEN" and "publishes nothing" in error["message"]
    assert await env.count(env.inbox) == 0


async def test_by_default_the_publishers_are_the_prefixes_of_the_handled_types(env: Env) -> None:
    handlers = handlers_for(env, Behaviour())
    typed = {"points.PointsEarned": handlers["PointsEarned"], "Bare": handlers["Fragile"]}
    app = Starlette(routes=[event_route(SUBSCRIBER, env.inbox, typed, db=env.db)])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://members") as c:
        ok = await c.post("/events", json=_body(_event(producer="points")), headers=_bearer(service_token("points")))
        refused = await c.post("/events", json=_body(_event(producer="benefits")), headers=_bearer(service_token("benefits")))
    assert ok.status_code == 200
    assert refused.status_code == 403


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"events": {}}',
        b'{"events": [{"id": "nope", "type": "PointsEarned", "payload": {}, "occurredAt": "2026-01-01T00:00:00+00:00", "producer": "points"}]}',
        b'{"events": [{"id": "0190a0a0-0000-7000-8000-000000000000", "type": "PointsEarned", "payload": [], "occurredAt": "2026-01-01T00:00:00+00:00", "producer": "points"}]}',
        b'{"events": [{"id": "0190a0a0-0000-7000-8000-000000000000", "type": "PointsEarned", "payload": {}, "occurredAt": "2026-01-01T00:00:00", "producer": "points"}]}',
    ],
)
async def test_a_malformed_batch_is_refused_whole(client: httpx.AsyncClient, env: Env, body: bytes) -> None:
    response = await client.post(
        "/events", content=body, headers={**_bearer(service_token(PRODUCER)), "content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert await env.count(env.inbox) == 0
