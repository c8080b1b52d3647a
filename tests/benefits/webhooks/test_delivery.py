"""Webhooks to a partner's endpoint (respx plays the partner): signed, retried with backoff under the
same event id, timed out, failed after the last attempt and redelivered on demand, logged; and a
partner never receives another partner's events."""

from __future__ import annotations

import asyncio
import time
import uuid

import httpx
import orjson
import pytest
import respx

from shared.errors import InvalidInput

from services.benefits.config import reset_benefits_settings_cache
from services.benefits.errors import SignatureRejected
from services.benefits.webhooks import service
from services.benefits.webhooks.rules import MAX_LOG_ENTRIES
from services.benefits.webhooks.signing import SIGNATURE_HEADER, verify
from tests.benefits.kit import OPERATOR, as_partner
from tests.benefits.webhooks.conftest import METRO_HOOK, SKYLINE_HOOK, Hooks


def _received(request: httpx.Request) -> dict:
    return orjson.loads(request.content)


async def test_an_event_is_delivered_signed_to_its_partner_only(hooks: Hooks) -> None:
    # The event names the member (the redemptions service needs it); the partner is not told.
    event_id = await hooks.event({"partnerId": str(hooks.metro.id), "codeLast4": "7Q2K", "storeId": "s-1",
                                  "memberId": "01a23fe1-0000-7000-8000-000000000001"})
    await hooks.fan_out()
    with respx.mock(assert_all_called=False) as partner:
        metro = partner.post(METRO_HOOK).respond(204)
        skyline = partner.post(SKYLINE_HOOK).respond(200)
        result = await hooks.deliver()
    assert (result.leased, result.delivered) == (1, 1)
    assert metro.call_count == 1 and skyline.call_count == 0
    request = metro.calls.last.request
    body = _received(request)
    assert body["id"] == str(event_id) and body["type"] == "benefits.CodeWrittenOff"
    assert body["data"] == {"partnerId": str(hooks.metro.id), "codeLast4": "7Q2K", "storeId": "s-1"}
    assert body["occurredAt"].endswith("+00:00")
    assert request.headers["content-type"] == "application/json"
    assert request.headers["ABG-Event-Id"] == str(event_id)
    verified = verify(request.headers[SIGNATURE_HEADER], request.content, [hooks.secrets[hooks.metro.id]], now=time.time())
    assert verified.secret_index == 0
    with pytest.raises(SignatureRejected):  # the other partner's secret does not verify it
        verify(request.headers[SIGNATURE_HEADER], request.content, [hooks.secrets[hooks.skyline.id]], now=time.time())
    (row,) = await hooks.rows()
    assert (row.status, row.attempts, row.partner_id) == ("DELIVERED", 1, hooks.metro.id) and row.delivered_at
    (entry,) = row.log
    assert (entry["httpStatus"], entry["error"], entry["url"], entry["attempt"]) == (204, None, METRO_HOOK, 1)
    assert entry["latencyMs"] >= 0
    assert await hooks.rows(hooks.skyline.id) == []


async def test_a_5xx_is_retried_with_backoff_and_the_same_event_id(hooks: Hooks, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ABG_BENEFITS_WEBHOOK_RETRY_BASE_SECONDS", "10")
    reset_benefits_settings_cache()
    event_id = await hooks.event({"partnerId": str(hooks.metro.id)})
    await hooks.fan_out()
    with respx.mock() as partner:
        route = partner.post(METRO_HOOK).mock(side_effect=[httpx.Response(503, text="busy"), httpx.Response(200)])
        first = await hooks.deliver()
        (row,) = await hooks.rows()
        assert (first.retried, row.status, row.attempts) == (1, "PENDING", 1)
        wait = (row.next_attempt_at - row.created_at).total_seconds()
        assert 5 <= wait <= 11  # half to all of the 10 s base, with jitter
        assert (await hooks.deliver()).leased == 0  # not due yet
        await hooks.make_due()
        second = await hooks.deliver()
    assert second.delivered == 1 and route.call_count == 2
    bodies = [_received(call.request) for call in route.calls]
    assert [b["id"] for b in bodies] == [str(event_id)] * 2
    (row,) = await hooks.rows()
    assert [(e["attempt"], e["httpStatus"], e["error"]) for e in row.log] == [(1, 503, "HTTP 503 busy"), (2, 200, None)]


@pytest.mark.parametrize("failure", [httpx.ReadTimeout("slow"), httpx.ConnectTimeout("no route"), httpx.ConnectError("refused")])
async def test_timeouts_and_network_errors_are_retried(hooks: Hooks, failure: Exception) -> None:
    await hooks.event({"partnerId": str(hooks.metro.id)})
    await hooks.fan_out()
    with respx.mock() as partner:
        route = partner.post(METRO_HOOK).mock(side_effect=[failure, httpx.Response(200)])
        assert (await hooks.deliver()).retried == 1
        assert (await hooks.deliver()).delivered == 1
    assert route.call_count == 2
    (row,) = await hooks.rows()
    first = row.log[0]
    assert first["httpStatus"] is None and type(failure).__name__ in first["error"]


async def test_a_slow_endpoint_times_out_on_our_clock(hooks: Hooks, monkeypatch: pytest.MonkeyPatch) -> None:
    """A real (slow) server on a loopback port and the service's own webhook client: our timeout
    ends the attempt, not the partner."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    from services.benefits.partners import service as partners
    from services.benefits.partners.answers import ProfileChanges
    from services.benefits.webhooks import delivery
    from tests.shared.events.support import Subscriber, free_port

    monkeypatch.setenv("ABG_BENEFITS_WEBHOOK_TIMEOUT_SECONDS", "0.3")
    reset_benefits_settings_cache()
    await delivery.aclose_webhook_client()  # the next round makes one with the short timeout

    async def endpoint(request: Request) -> Response:
        await asyncio.sleep(1.5)
        return Response(status_code=200)

    server = Subscriber(Starlette(routes=[Route("/abg", endpoint, methods=["POST"])]), free_port())
    await server.start()
    try:
        url = f"http://127.0.0.1:{server.port}/abg"
        await partners.update_partner(hooks.db, OPERATOR, hooks.metro.id, ProfileChanges(webhook_url=url))
        await hooks.event({"partnerId": str(hooks.metro.id)})
        await hooks.fan_out()
        began = time.monotonic()
        result = await hooks.deliver()
        elapsed = time.monotonic() - began
    finally:
        await delivery.aclose_webhook_client()
        await server.stop()
    assert result.retried == 1 and elapsed < 1.2
    (row,) = await hooks.rows()
    assert row.log[0]["error"] == "timed out (ReadTimeout)" and row.log[0]["url"] == url


async def test_failed_after_the_last_attempt_then_redelivered_on_demand(hooks: Hooks, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ABG_BENEFITS_WEBHOOK_MAX_ATTEMPTS", "3")
    reset_benefits_settings_cache()
    await hooks.event({"partnerId": str(hooks.metro.id)})
    await hooks.fan_out()
    with respx.mock() as partner:
        route = partner.post(METRO_HOOK).respond(500)
        outcomes = [await hooks.deliver() for _ in range(4)]
        assert [(o.retried, o.failed) for o in outcomes] == [(1, 0), (1, 0), (0, 1), (0, 0)]
        assert route.call_count == 3
        (row,) = await hooks.rows()
        assert (row.status, row.attempts) == ("FAILED", 3)
        again = await service.redeliver_webhook(hooks.db, as_partner(hooks.metro.id), row.id)
        assert (again.status.value, again.attempt_count, len(again.attempts)) == ("PENDING", 0, 3)
        route.respond(200)
        assert (await hooks.deliver()).delivered == 1
    (row,) = await hooks.rows()
    assert row.status == "DELIVERED" and [e["httpStatus"] for e in row.log] == [500, 500, 500, 200]
    # A delivered one may be sent again too (the partner lost it), by an operator as well.
    again = await service.redeliver_webhook(hooks.db, OPERATOR, row.id)
    assert again.status.value == "PENDING"


async def test_during_a_rotation_both_secrets_sign_then_only_the_new_one(hooks: Hooks) -> None:
    old = hooks.secrets[hooks.metro.id]
    rotated = await service.rotate_webhook_secret(hooks.db, as_partner(hooks.metro.id), hooks.metro.id)
    assert rotated.secret != old and rotated.secret.startswith("whsec_") and rotated.previous_expires_at is not None
    assert (rotated.previous_expires_at - rotated.info.created_at).total_seconds() == pytest.approx(86400, abs=5)
    await hooks.event({"partnerId": str(hooks.metro.id)})
    await hooks.fan_out()
    with respx.mock() as partner:
        route = partner.post(METRO_HOOK).respond(200)
        await hooks.deliver()
    request = route.calls.last.request
    header = request.headers[SIGNATURE_HEADER]
    assert header.count("v1=") == 2
    for secrets in ([old], [rotated.secret]):
        verify(header, request.content, secrets, now=time.time())
    # A second rotation ends the first one's overlap at once: never more than two sign.
    third = await service.rotate_webhook_secret(hooks.db, OPERATOR, hooks.metro.id)
    await hooks.event({"partnerId": str(hooks.metro.id)})
    await hooks.fan_out()
    with respx.mock() as partner:
        route = partner.post(METRO_HOOK).respond(200)
        await hooks.deliver()
    request = route.calls.last.request
    header = request.headers[SIGNATURE_HEADER]
    assert header.count("v1=") == 2
    verify(header, request.content, [rotated.secret], now=time.time())
    verify(header, request.content, [third.secret], now=time.time())
    with pytest.raises(SignatureRejected):
        verify(header, request.content, [old], now=time.time())
    assert len((await service.secrets_of(hooks.db, OPERATOR, [hooks.metro.id]))[0] or []) == 2


async def test_with_no_overlap_the_old_secret_stops_at_once(hooks: Hooks, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ABG_BENEFITS_WEBHOOK_SECRET_OVERLAP_SECONDS", "0")
    reset_benefits_settings_cache()
    old = hooks.secrets[hooks.metro.id]
    new = (await service.rotate_webhook_secret(hooks.db, OPERATOR, hooks.metro.id)).secret
    await hooks.event({"partnerId": str(hooks.metro.id)})
    await hooks.fan_out()
    with respx.mock() as partner:
        route = partner.post(METRO_HOOK).respond(200)
        await hooks.deliver()
    request = route.calls.last.request
    assert request.headers[SIGNATURE_HEADER].count("v1=") == 1
    verify(request.headers[SIGNATURE_HEADER], request.content, [new], now=time.time())
    with pytest.raises(SignatureRejected):
        verify(request.headers[SIGNATURE_HEADER], request.content, [old], now=time.time())


async def test_a_replayed_delivery_is_refused_by_the_partner_after_the_window(hooks: Hooks) -> None:
    await hooks.event({"partnerId": str(hooks.metro.id)})
    await hooks.fan_out()
    with respx.mock() as partner:
        route = partner.post(METRO_HOOK).respond(200)
        await hooks.deliver()
    request = route.calls.last.request
    with pytest.raises(SignatureRejected) as stale:
        verify(request.headers[SIGNATURE_HEADER], request.content, [hooks.secrets[hooks.metro.id]], now=time.time() + 301)
    assert stale.value.reason == "STALE_TIMESTAMP"
    tampered = request.content.replace(b"benefits.", b"benefitz.")
    with pytest.raises(SignatureRejected):
        verify(request.headers[SIGNATURE_HEADER], tampered, [hooks.secrets[hooks.metro.id]], now=time.time())


async def test_events_of_several_partners_go_to_each_and_fan_out_is_idempotent(hooks: Hooks) -> None:
    both = await hooks.event({"partnerIds": [str(hooks.metro.id), str(hooks.skyline.id), str(uuid.uuid4()), "junk"]})
    nobody = await hooks.event({"partnerId": str(uuid.uuid4())})
    unaddressed = await hooks.event({"note": "no partner"})
    answers = await service.fan_out(hooks.db, [])  # an empty batch is fine
    assert answers == {}
    await hooks.fan_out()
    rows = await hooks.rows()
    assert sorted((r.event_id, r.partner_id) for r in rows) == sorted([(both, hooks.metro.id), (both, hooks.skyline.id)])
    from shared.events import Event
    from shared.timeutil import utcnow

    again = await service.fan_out(hooks.db, [Event(both, "benefits.CodeWrittenOff", {"partnerIds": [str(hooks.metro.id)]}, utcnow(), "benefits")])
    assert again == {both: None} and len(await hooks.rows()) == 2  # handed over twice, one delivery each
    assert {nobody, unaddressed}.isdisjoint(r.event_id for r in rows)
    with respx.mock() as partner:
        metro = partner.post(METRO_HOOK).respond(200)
        skyline = partner.post(SKYLINE_HOOK).respond(200)
        assert (await hooks.deliver()).delivered == 2
    assert metro.call_count == skyline.call_count == 1
    assert _received(metro.calls.last.request)["id"] == _received(skyline.calls.last.request)["id"] == str(both)


async def test_nowhere_to_send_fails_at_once_and_says_why(hooks: Hooks) -> None:
    from services.benefits.partners import service as partners
    from services.benefits.partners.answers import ProfileChanges
    from tests.benefits.kit import register

    await partners.update_partner(hooks.db, OPERATOR, hooks.metro.id, ProfileChanges(webhook_url=None))
    secretless = await register(hooks.db, name="No Secret", webhook_url="https://nosecret.example/h")
    await hooks.event({"partnerIds": [str(hooks.metro.id), str(secretless.id)]})
    await hooks.fan_out()
    # A partner without an endpoint takes no webhooks: nothing is queued for it (nor logged per event).
    assert await hooks.rows(hooks.metro.id) == []
    with respx.mock() as partner:
        result = await hooks.deliver()
    assert result.failed == 1 and not partner.calls
    errors = [row.log[0]["error"] for row in await hooks.rows()]
    assert errors == ["the partner has no webhook signing secret (rotateWebhookSecret makes one)"]


async def test_a_redirect_is_not_followed(hooks: Hooks) -> None:
    await hooks.event({"partnerId": str(hooks.metro.id)})
    await hooks.fan_out()
    with respx.mock() as partner:
        partner.post(METRO_HOOK).respond(302, headers={"location": "http://169.254.169.254/"})
        assert (await hooks.deliver()).retried == 1
        assert len(partner.calls) == 1


async def test_concurrent_rounds_send_each_delivery_once(hooks: Hooks) -> None:
    for _ in range(12):
        await hooks.event({"partnerId": str(hooks.metro.id)})
    await hooks.fan_out()

    async def slow_ok(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.05)
        return httpx.Response(200)

    with respx.mock() as partner:
        route = partner.post(METRO_HOOK).mock(side_effect=slow_ok)
        results = await asyncio.gather(*(hooks.deliver() for _ in range(4)))
    assert sum(r.delivered for r in results) == 12 and route.call_count == 12
    assert len({_received(call.request)["id"] for call in route.calls}) == 12


async def test_the_log_keeps_the_newest_attempts(hooks: Hooks, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ABG_BENEFITS_WEBHOOK_MAX_ATTEMPTS", str(MAX_LOG_ENTRIES + 5))
    reset_benefits_settings_cache()
    await hooks.event({"partnerId": str(hooks.metro.id)})
    await hooks.fan_out()
    with respx.mock() as partner:
        partner.post(METRO_HOOK).respond(500)
        for _ in range(MAX_LOG_ENTRIES + 3):
            await hooks.deliver()
    (row,) = await hooks.rows()
    assert len(row.log) == MAX_LOG_ENTRIES
    assert [e["attempt"] for e in row.log] == list(range(4, MAX_LOG_ENTRIES + 4))


async def test_redelivery_of_unknown_or_foreign_deliveries(hooks: Hooks) -> None:
    from shared.errors import Forbidden, NotFound

    await hooks.event({"partnerId": str(hooks.metro.id)})
    await hooks.fan_out()
    (row,) = await hooks.rows()
    with pytest.raises(Forbidden):
        await service.redeliver_webhook(hooks.db, as_partner(hooks.skyline.id), row.id)
    with pytest.raises(NotFound):
        await service.redeliver_webhook(hooks.db, OPERATOR, uuid.uuid4())
    with pytest.raises(InvalidInput):
        await service.deliveries_of(hooks.db, OPERATOR, [hooks.metro.id], first=1000)
