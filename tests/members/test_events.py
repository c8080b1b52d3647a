"""Events: growth fed through POST /events (redelivery, restarts, failures mid-way) and members'
own TierChanged events delivered from the outbox at least once."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest

from shared.database import Database
from shared.settings import reset_settings_cache
from shared.events import DELIVERED, RetryPolicy, dispatch_once
from shared.events.dispatcher import claim
from shared.timeutil import utcnow

from services.members.models import OUTBOX
from services.members.profiles import service as profiles
from services.members.tiers import service as tiers
from services.members.tiers.answers import GrowthInput, GrowthKind
from tests.members.conftest import OPERATOR, POINTS, as_member, fetch, growth_of, register, running_app, token


def purchase_event(member_id: uuid.UUID, amount_minor: int = 250_000, **overrides: Any) -> dict[str, Any]:
    now = utcnow().isoformat()
    event = {
        "id": str(uuid.uuid4()),
        "type": "points.PurchaseRecorded",
        "payload": {"memberId": str(member_id), "amountMinor": amount_minor, "currency": "CNY", "occurredAt": now,
                    "partnerId": str(uuid.uuid4()), "externalId": "order-1"},
        "occurredAt": now,
        "producer": "points",
    }
    return event | overrides


async def deliver(http: httpx.AsyncClient, *events: dict[str, Any], caller: str = "points") -> httpx.Response:
    from shared.auth.principals import Principal, PrincipalKind

    bearer = token(Principal(PrincipalKind.SERVICE, caller))
    return await http.post("/events", json={"events": list(events)}, headers={"authorization": f"Bearer {bearer}"})


async def test_purchase_events_add_growth_once(client: httpx.AsyncClient, database: Database) -> None:
    me = await register(database)
    event = purchase_event(me.id)
    first = await deliver(client, event)
    assert first.status_code == 200 and first.json()["accepted"] == [event["id"]]
    again = await deliver(client, event)
    assert again.json()["duplicates"] == [event["id"]] and again.json()["accepted"] == []
    assert await growth_of(database, me.id) == 2500
    view = await profiles.get_member(database, OPERATOR, me.id)
    assert view.tier == "SILVER" and view.last_activity_at is not None
    (row,) = await fetch(database, "SELECT event_id, source FROM members.growth_events")
    assert (row["event_id"], row["source"]) == (event["id"], "points")


async def test_interaction_and_activity_events(client: httpx.AsyncClient, database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    # Engagement is not one of the alliance's own services: a deployment that runs it names it.
    monkeypatch.setenv("ABG_KNOWN_SERVICES", "gateway,members,points,benefits,redemptions,engagement")
    reset_settings_cache()
    me = await register(database)
    at = (utcnow() - timedelta(days=1)).isoformat()
    review = {"id": str(uuid.uuid4()), "type": "engagement.ReviewPublished", "payload": {"memberId": str(me.id), "occurredAt": at},
              "occurredAt": at, "producer": "engagement"}
    referral = review | {"id": str(uuid.uuid4()), "type": "engagement.ReferralCompleted"}
    answer = (await deliver(client, review, referral, caller="engagement")).json()
    assert len(answer["accepted"]) == 2
    monkeypatch.delenv("ABG_KNOWN_SERVICES")
    reset_settings_cache()
    assert (await deliver(client, review | {"id": str(uuid.uuid4())}, caller="engagement")).status_code == 401
    assert await growth_of(database, me.id) == 20 + 200
    redeemed = {"id": str(uuid.uuid4()), "type": "redemptions.RedemptionCompleted",
                "payload": {"memberId": str(me.id)}, "occurredAt": utcnow().isoformat(), "producer": "redemptions"}
    assert len((await deliver(client, redeemed, caller="redemptions")).json()["accepted"]) == 1
    view = await profiles.get_member(database, OPERATOR, me.id)
    assert view.last_activity_at is not None and view.last_activity_at.isoformat() == redeemed["occurredAt"]
    assert await growth_of(database, me.id) == 220  # activity, not growth


async def test_a_restart_between_handling_and_acknowledging_changes_nothing(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    me = await register(database)
    event = purchase_event(me.id)
    async with running_app(monkeypatch) as first_life:
        await deliver(first_life, event)  # handled; suppose the acknowledgement never reached points
    async with running_app(monkeypatch) as second_life:  # members restarted; points delivers again
        answer = (await deliver(second_life, event, purchase_event(me.id, 100_000))).json()
    assert answer["duplicates"] == [event["id"]] and len(answer["accepted"]) == 1
    assert await growth_of(database, me.id) == 2500 + 1000
    assert len(await fetch(database, "SELECT 1 FROM members.inbox")) == 2


async def test_a_failure_in_the_middle_of_handling_loses_nothing(
    client: httpx.AsyncClient, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    me = await register(database)
    event = purchase_event(me.id)
    real = tiers._change_tier
    calls = 0

    async def crash_once(*args: Any, **kwargs: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("the process died half-way")
        await real(*args, **kwargs)

    monkeypatch.setattr(tiers, "_change_tier", crash_once)
    failed = (await deliver(client, event)).json()
    assert [f["id"] for f in failed["failed"]] == [event["id"]]
    # Rolled back as a whole: no growth, no inbox entry, so the redelivery is not mistaken for a duplicate.
    assert await growth_of(database, me.id) == 0 and await fetch(database, "SELECT 1 FROM members.inbox") == []
    retried = (await deliver(client, event)).json()
    assert retried["accepted"] == [event["id"]]
    assert await growth_of(database, me.id) == 2500
    assert (await profiles.get_member(database, OPERATOR, me.id)).tier == "SILVER"


@pytest.mark.parametrize(
    "change",
    [
        {"producer": "benefits"},  # benefits may not speak for points (the caller is points)
        {"payload": {"amountMinor": 100, "currency": "CNY"}},  # no member
        {"payload": {"memberId": "not-a-uuid", "amountMinor": 100, "currency": "CNY"}},
        {"payload": {"memberId": "MEMBER", "amountMinor": -100, "currency": "CNY"}},
        {"payload": {"memberId": "MEMBER", "amountMinor": 100, "currency": "CNY", "occurredAt": "yesterday"}},
        {"payload": {"memberId": str(uuid.uuid4()), "amountMinor": 100, "currency": "CNY"}},  # unknown member
    ],
)
async def test_bad_events_fail_without_effect_so_they_can_be_retried(
    client: httpx.AsyncClient, database: Database, change: dict
) -> None:
    me = await register(database)
    event = purchase_event(me.id)
    if "payload" in change:
        change = {"payload": {k: (str(me.id) if v == "MEMBER" else v) for k, v in change["payload"].items()}}
    response = await deliver(client, event | change)
    if "producer" in change:
        assert response.status_code == 403
    else:
        assert [f["id"] for f in response.json()["failed"]] == [event["id"]]
    assert await growth_of(database, me.id) == 0
    assert await fetch(database, "SELECT 1 FROM members.inbox") == []


async def test_event_types_are_accepted_only_from_their_owner(client: httpx.AsyncClient, database: Database) -> None:
    me = await register(database)
    # Redemptions publishes here, but not purchases: the handler refuses another owner's type.
    forged = purchase_event(me.id, producer="redemptions")
    answer = (await deliver(client, forged, caller="redemptions")).json()
    assert [f["id"] for f in answer["failed"]] == [forged["id"]]
    # Benefits publishes nothing members consumes: refused at the door.
    response = await deliver(client, purchase_event(me.id, producer="benefits"), caller="benefits")
    assert response.status_code == 403
    assert await growth_of(database, me.id) == 0


async def test_only_services_deliver_events(client: httpx.AsyncClient, database: Database) -> None:
    me = await register(database)
    body = {"events": [purchase_event(me.id)]}
    assert (await client.post("/events", json=body)).status_code == 401
    member_token = token(as_member(me.id))
    assert (await client.post("/events", json=body, headers={"authorization": f"Bearer {member_token}"})).status_code == 403
    assert (await client.post("/events", json=body, headers={"authorization": "Bearer junk"})).status_code == 401
    assert await growth_of(database, me.id) == 0


# --- members as a producer -----------------------------------------------------------------------


class Subscriber:
    """A stand-in for the points service's /events endpoint, reached through httpx.MockTransport."""

    def __init__(self, fail_first: int = 0) -> None:
        self.received: list[dict[str, Any]] = []
        self.fail_first = fail_first

    def handle(self, request: httpx.Request) -> httpx.Response:
        events = json.loads(request.content)["events"]
        self.received += events
        if self.fail_first:
            self.fail_first -= 1
            raise httpx.ReadTimeout("the answer never came back", request=request)
        return httpx.Response(200, json={"accepted": [e["id"] for e in events]})

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self.handle))


async def test_tier_changed_reaches_subscribers_at_least_once(database: Database) -> None:
    me = await register(database)
    await tiers.record_growth(database, POINTS, GrowthInput("e-1", me.id, GrowthKind.PURCHASE, utcnow(), 600_000, "CNY"))
    subscriber = Subscriber(fail_first=1)  # delivered, but the acknowledgement is lost
    retry = RetryPolicy(base_seconds=0.01)
    async with subscriber.client() as http:
        first = await dispatch_once(database, "members", OUTBOX, client=http, retry=retry)
        assert (first.claimed, first.retried) == (1, 1)
        await asyncio.sleep(0.1)
        second = await dispatch_once(database, "members", OUTBOX, client=http, retry=retry)
        assert second.delivered == 1
    ids = [e["id"] for e in subscriber.received]
    assert len(ids) == 2 and len(set(ids)) == 1  # the same event twice: the subscriber's inbox dedupes
    event = subscriber.received[0]
    assert event["type"] == "members.TierChanged" and event["producer"] == "members"
    assert {k: event["payload"][k] for k in ("memberId", "fromTier", "toTier", "reason", "sequence")} == {
        "memberId": str(me.id), "fromTier": "BASIC", "toTier": "GOLD", "reason": "UPGRADE", "sequence": 1,
    }
    (row,) = await fetch(database, "SELECT status, attempts FROM members.outbox_deliveries")
    assert (row["status"], row["attempts"]) == (DELIVERED, 2)


async def test_a_dispatcher_that_dies_mid_delivery_leaves_the_event_to_the_next(database: Database) -> None:
    me = await register(database)
    await tiers.record_growth(database, POINTS, GrowthInput("e-2", me.id, GrowthKind.PURCHASE, utcnow(), 250_000, "CNY"))
    # The first dispatcher leases the delivery and dies before sending it.
    assert len(await claim(database, OUTBOX, limit=10, lease=timedelta(seconds=0.3))) == 1
    subscriber = Subscriber()
    async with subscriber.client() as http:
        assert (await dispatch_once(database, "members", OUTBOX, client=http)).claimed == 0  # still leased
        await asyncio.sleep(0.4)
        assert (await dispatch_once(database, "members", OUTBOX, client=http)).delivered == 1
    assert [e["payload"]["toTier"] for e in subscriber.received] == ["SILVER"]
