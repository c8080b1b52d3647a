"""Redemption events from the redemptions service, posted to the real benefits app's POST /events,
become webhooks to the benefit's partner (BenefitRedeemed, RedemptionRefunded) with no member data;
a redelivery changes nothing, and only the redemptions service may send them."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import text

from shared.auth.tokens import mint_token
from shared.settings import reset_settings_cache
from shared.timeutil import utcnow

from services.benefits.catalogue import service as catalogue
from services.benefits.config import reset_benefits_settings_cache
from tests.benefits.kit import OPERATOR, published
from tests.benefits.webhooks.conftest import Hooks

MEMBER_ID = "0190a0d0-0000-7000-8000-00000000c0de"


@pytest.fixture
async def app(hooks: Hooks, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[httpx.AsyncClient]:
    """One life of the benefits app, reached in-process over HTTP; other services' URLs point at a
    closed port, so its outbox deliveries to them fail fast and stay pending."""
    for name in ("POINTS", "REDEMPTIONS"):
        monkeypatch.setenv(f"ABG_{name}_URL", "http://127.0.0.1:9/graphql")
    reset_settings_cache()
    reset_benefits_settings_cache()
    from services.benefits.app import app as benefits_app

    try:
        async with benefits_app.router.lifespan_context(benefits_app):
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=benefits_app), base_url="http://benefits") as http:
                yield http
    finally:
        reset_settings_cache()


async def voucher_of(hooks: Hooks) -> Any:
    return await catalogue.create_benefit(hooks.db, OPERATOR, hooks.metro.id, {
        "kind": "VOUCHER", "title": "¥20 voucher", "points_price": 2000, "settlement_minor": 1800, "currency": "CNY",
        "face_value_minor": 2000, "validity_days": 30,
    })


def redemption_event(benefit: Any, type_: str = "redemptions.RedemptionCompleted", producer: str = "redemptions",
                     **payload: Any) -> dict[str, Any]:
    now = utcnow().isoformat()
    body = {
        "redemptionId": str(uuid.uuid4()), "memberId": MEMBER_ID, "benefitId": str(benefit.id),
        "partnerId": str(benefit.partner_id), "kind": "VOUCHER", "points": 2000, "settlementMinor": 1800, "currency": "CNY",
        "occurredAt": now,
    }
    if type_.endswith("Refunded"):
        body |= {"refundedAt": now, "reason": "Jane Doe, 138 0013 8000, changed her mind"}
    else:
        body["completedAt"] = now
    return {"id": str(uuid.uuid4()), "type": type_, "payload": body | payload, "occurredAt": now, "producer": producer}


async def deliver(http: httpx.AsyncClient, *events: dict[str, Any], caller: str = "redemptions", kind: str = "service") -> httpx.Response:
    bearer = mint_token(kind, caller)
    return await http.post("/events", json={"events": list(events)}, headers={"authorization": f"Bearer {bearer}"})


async def webhook_rows(hooks: Hooks, partner_id: uuid.UUID, count: int) -> list[Any]:
    """The partner's deliveries once the outbox has handed `count` of them over (the app's own
    dispatcher may get there first; a round here does the same, idempotently)."""
    for _ in range(100):
        await hooks.fan_out()
        rows = await hooks.rows(partner_id)
        if len(rows) >= count:
            return rows
        await asyncio.sleep(0.05)
    return await hooks.rows(partner_id)


async def inbox_ids(hooks: Hooks) -> list[str]:
    async with hooks.db.engine.connect() as connection:
        return [str(r[0]) for r in (await connection.execute(text("SELECT event_id FROM benefits.inbox"))).all()]


async def test_a_completed_redemption_becomes_a_webhook_to_the_partner_without_member_data(app: httpx.AsyncClient, hooks: Hooks) -> None:
    benefit = await voucher_of(hooks)
    event = redemption_event(benefit)
    answer = await deliver(app, event)
    assert answer.status_code == 200 and answer.json()["accepted"] == [event["id"]], answer.json()
    (row,) = await webhook_rows(hooks, hooks.metro.id, 1)
    sent = event["payload"]
    assert row.event_type == "benefits.BenefitRedeemed" and row.status == "PENDING"
    assert row.payload["type"] == "benefits.BenefitRedeemed"
    assert row.payload["data"] == {
        "partnerId": str(hooks.metro.id), "benefitId": str(benefit.id), "redemptionId": sent["redemptionId"], "kind": "VOUCHER",
        "points": 2000, "settlementMinor": 1800, "currency": "CNY", "redeemedAt": sent["completedAt"],
    }
    assert MEMBER_ID not in orjson.dumps(row.payload).decode() and "memberId" not in row.payload["data"]
    assert await hooks.rows(hooks.skyline.id) == []  # only the benefit's owner is told

    again = (await deliver(app, event)).json()
    assert again["duplicates"] == [event["id"]] and again["accepted"] == []
    assert len(await published(hooks.db, "benefits.BenefitRedeemed")) == 1
    assert len(await webhook_rows(hooks, hooks.metro.id, 2)) == 1  # nothing more, however long we wait
    assert await inbox_ids(hooks) == [event["id"]]


async def test_a_refund_becomes_a_webhook_without_the_reason_or_the_member(app: httpx.AsyncClient, hooks: Hooks) -> None:
    benefit = await voucher_of(hooks)
    event = redemption_event(benefit, "redemptions.RedemptionRefunded", points=500, settlementMinor=450)
    assert (await deliver(app, event)).json()["accepted"] == [event["id"]]
    (row,) = await webhook_rows(hooks, hooks.metro.id, 1)
    assert row.event_type == "benefits.RedemptionRefunded"
    assert row.payload["data"] == {
        "partnerId": str(hooks.metro.id), "benefitId": str(benefit.id), "redemptionId": event["payload"]["redemptionId"],
        "kind": "VOUCHER", "points": 500, "settlementMinor": 450, "currency": "CNY", "refundedAt": event["payload"]["refundedAt"],
    }
    flat = orjson.dumps(row.payload).decode()
    assert MEMBER_ID not in flat and "changed her mind" not in flat


async def test_only_the_redemptions_service_may_send_them(app: httpx.AsyncClient, hooks: Hooks) -> None:
    benefit = await voucher_of(hooks)
    # Another service speaking for redemptions: refused before anything is read.
    spoofed = await deliver(app, redemption_event(benefit), caller="points")
    assert spoofed.status_code == 403
    # Another service's own event of redemptions' type: only redemptions publishes to benefits, so
    # it is refused at the door (the handlers check the producer again behind it).
    own = redemption_event(benefit, producer="points")
    refused = await deliver(app, own, caller="points")
    assert refused.status_code == 403 and "publishes nothing benefits consumes" in refused.json()["errors"][0]["message"]
    # Not a service at all.
    assert (await deliver(app, redemption_event(benefit), caller=str(hooks.metro.id), kind="partner")).status_code == 403
    assert (await app.post("/events", json={"events": []})).status_code == 401
    assert await inbox_ids(hooks) == [] and await published(hooks.db, "benefits.BenefitRedeemed") == []


@pytest.mark.parametrize("type_", ["redemptions.RedemptionCompleted", "redemptions.RedemptionRefunded"])
async def test_the_handlers_refuse_redemptions_types_from_another_producer(type_: str) -> None:
    from services.benefits.inbox import HANDLERS
    from shared.errors import Forbidden
    from shared.events import Event

    class Benefit:
        id, partner_id = uuid.uuid4(), uuid.uuid4()

    event = Event.from_wire(redemption_event(Benefit(), type_=type_, producer="points"))
    with pytest.raises(Forbidden, match="come from redemptions"):
        await HANDLERS[type_](None, event)  # type: ignore[arg-type]  # refused before the session is used


@pytest.mark.parametrize(("change", "field"), [
    ({"partnerId": "0190a0d0-0000-7000-8000-0000000000bb"}, "partnerId"),
    ({"kind": "VIDEO_MEMBERSHIP"}, "kind"),
    ({"currency": "USD"}, "currency"),
    ({"points": -1}, "points"),
    ({"settlementMinor": "1800"}, "settlementMinor"),
    ({"completedAt": "2026-12-01T10:00:00"}, "completedAt"),
    ({"benefitId": str(uuid.uuid4())}, "benefitId"),
    ({"redemptionId": "r-1"}, "redemptionId"),
])
async def test_an_event_that_does_not_fit_the_benefit_fails_and_tells_nobody(
    app: httpx.AsyncClient, hooks: Hooks, change: dict[str, Any], field: str
) -> None:
    benefit = await voucher_of(hooks)
    event = redemption_event(benefit, **change)
    answer = (await deliver(app, event)).json()
    assert [f["id"] for f in answer["failed"]] == [event["id"]] and field in answer["failed"][0]["error"]
    # Rolled back with the inbox entry, so a corrected redelivery of the same id would be taken.
    assert await inbox_ids(hooks) == [] and await published(hooks.db, "benefits.BenefitRedeemed") == []
