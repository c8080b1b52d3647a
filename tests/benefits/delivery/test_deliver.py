"""deliverRecharge through the service layer, with respx playing the partner's fulfilment API:
success, refusal, timeouts, unknown outcomes resolved later with the same key, 5xx storms, malformed
answers, replays that ask nobody, and the states a reservation must be in."""

from __future__ import annotations

import httpx
import pytest
import respx
from sqlalchemy import text

from shared.errors import Conflict, IdempotencyKeyReused, InvalidInput, NotFound

from services.benefits.delivery import service as delivery
from services.benefits.delivery.rules import recharge_key
from services.benefits.errors import DeliveryUnknown, PartnerRefused
from services.benefits.reservations import service as reservations
from tests.benefits.delivery.delivery_kit import (
    Video, body, partner_api, refused, status_url, succeeded, unknown,
)
from tests.benefits.kit import SERVICE


async def test_a_recharge_is_delivered_signed_and_the_reservation_issued(video: Video) -> None:
    reserved = await video.reserve()
    with respx.mock(assert_all_called=False) as partner:
        recharge, status, _ = partner_api(partner)
        recharge.mock(return_value=succeeded("SBX-42"))
        answer = await delivery.deliver_recharge(video.db, SERVICE, key=reserved.key, account="alice@streambox")
    assert (answer.state, answer.delivery_reference, answer.id) == ("ISSUED", "SBX-42", reserved.id)
    assert answer.issued_at is not None and await video.state(reserved.key) == "ISSUED"
    assert await video.stock() == (0, 1)
    request = recharge.calls.last.request
    sent = body(request)
    assert sent["idempotencyKey"] == recharge_key(reserved.key) == f"abg.r.{reserved.key}"
    assert (sent["account"], sent["durationDays"], sent["benefitId"]) == ("alice@streambox", 30, str(video.benefit_id))
    assert sent["memberRef"].startswith("m-") and str(reserved.member_id) not in sent["memberRef"]
    assert video.verify(request) == 0 and status.call_count == 0
    (logged,) = await video.logged(reserved.key)
    assert (logged.request, logged.http_status, logged.outcome, logged.detail, logged.error) == (
        "RECHARGE", 200, "SUCCEEDED", "SBX-42", None)
    assert logged.partner_id == video.partner_id and logged.latency_ms >= 0


async def test_after_success_a_call_answers_from_the_record_without_asking_the_partner(video: Video) -> None:
    reserved = await video.reserve()
    with respx.mock(assert_all_called=False) as partner:
        recharge, _, _ = partner_api(partner)
        recharge.mock(return_value=succeeded("SBX-1"))
        first = await delivery.deliver_recharge(video.db, SERVICE, key=reserved.key, account="alice")
        again = await delivery.deliver_recharge(video.db, SERVICE, key=reserved.key, account="alice")
        with pytest.raises(IdempotencyKeyReused):
            await delivery.deliver_recharge(video.db, SERVICE, key=reserved.key, account="bob")
        assert recharge.call_count == 1
    assert again == first and len(await video.logged(reserved.key)) == 1
    # the saga may still issue with the same reference (its own step replays)
    issued = await reservations.issue(video.db, SERVICE, key=reserved.key, delivery_reference="SBX-1")
    assert issued.reservation.state == "ISSUED" and await video.stock() == (0, 1)


async def test_a_refusal_is_typed_and_leaves_the_reservation_reserved(video: Video) -> None:
    reserved = await video.reserve()
    with respx.mock(assert_all_called=False) as partner:
        recharge, _, _ = partner_api(partner)
        recharge.mock(return_value=refused("ACCOUNT_NOT_FOUND", "no account named nobody"))
        with pytest.raises(PartnerRefused) as error:
            await delivery.deliver_recharge(video.db, SERVICE, key=reserved.key, account="nobody")
    ext = error.value.extensions
    assert (error.value.code, ext["reason"], ext["partnerMessage"], ext["key"], ext["attempts"]) == (
        "PARTNER_REFUSED", "ACCOUNT_NOT_FOUND", "no account named nobody", reserved.key, 1)
    assert await video.state(reserved.key) == "RESERVED" and await video.stock() == (1, 0)
    (logged,) = await video.logged(reserved.key)
    assert (logged.outcome, logged.http_status, logged.detail) == ("REFUSED", 422, "ACCOUNT_NOT_FOUND")
    released = await reservations.release(video.db, SERVICE, key=reserved.key)  # what the caller does next
    assert released.state == "RELEASED" and await video.stock() == (0, 0)
    with pytest.raises(Conflict):
        await delivery.deliver_recharge(video.db, SERVICE, key=reserved.key, account="nobody")


async def test_a_timeout_is_resolved_by_the_status_lookup(video: Video) -> None:
    reserved = await video.reserve()
    with respx.mock(assert_all_called=False) as partner:
        recharge, status, _ = partner_api(partner)
        recharge.mock(side_effect=httpx.ReadTimeout("slow"))
        status.mock(return_value=succeeded("SBX-7"))
        answer = await delivery.deliver_recharge(video.db, SERVICE, key=reserved.key, account="alice")
    assert (answer.state, answer.delivery_reference) == ("ISSUED", "SBX-7")
    assert str(status.calls.last.request.url) == status_url(reserved.key)
    video.verify(status.calls.last.request)
    assert [(a.request, a.outcome, a.error, a.http_status) for a in await video.logged(reserved.key)] == [
        ("RECHARGE", "UNANSWERED", "timeout", None), ("STATUS", "SUCCEEDED", None, 200)]


async def test_a_timeout_then_never_received_posts_again_with_the_same_key(video: Video) -> None:
    reserved = await video.reserve()
    with respx.mock(assert_all_called=False) as partner:
        recharge, status, _ = partner_api(partner)
        recharge.mock(side_effect=[httpx.ReadTimeout("slow"), succeeded("SBX-8")])
        status.mock(return_value=unknown())
        answer = await delivery.deliver_recharge(video.db, SERVICE, key=reserved.key, account="alice")
    assert answer.delivery_reference == "SBX-8"
    assert [body(c.request) for c in recharge.calls][0] == body(recharge.calls.last.request)
    assert [a.outcome for a in await video.logged(reserved.key)] == ["UNANSWERED", "NOT_RECEIVED", "SUCCEEDED"]


async def test_an_unknown_outcome_stays_reserved_and_a_later_call_with_the_same_key_delivers(video: Video) -> None:
    reserved = await video.reserve()
    with respx.mock(assert_all_called=False) as partner:
        recharge, status, _ = partner_api(partner)
        recharge.mock(side_effect=httpx.ReadTimeout("slow"))
        status.mock(return_value=httpx.Response(200, json={"status": "PENDING"}))
        with pytest.raises(DeliveryUnknown) as error:
            await delivery.deliver_recharge(video.db, SERVICE, key=reserved.key, account="alice")
        assert error.value.code == "DELIVERY_UNKNOWN" and error.value.extensions["attempts"] == 6
        assert await video.state(reserved.key) == "RESERVED" and await video.stock() == (1, 0)
        assert [a.outcome for a in await video.logged(reserved.key)] == ["UNANSWERED"] + ["PENDING"] * 5

        status.mock(return_value=succeeded("SBX-9"))  # later, the partner has finished
        answer = await delivery.deliver_recharge(video.db, SERVICE, key=reserved.key, account="alice")
    assert (answer.state, answer.delivery_reference) == ("ISSUED", "SBX-9") and await video.stock() == (0, 1)
    assert recharge.call_count == 2  # the second call posted again first: the partner answers from its record
    keys = {body(c.request)["idempotencyKey"] for c in recharge.calls} | {str(c.request.url).rsplit("/", 1)[1]
                                                                           for c in status.calls}
    assert keys == {recharge_key(reserved.key)}
    assert len(await video.logged(reserved.key)) == 8


async def test_a_5xx_storm_ends_unknown_within_the_bounds(video: Video) -> None:
    reserved = await video.reserve()
    with respx.mock(assert_all_called=False) as partner:
        recharge, status, _ = partner_api(partner)
        recharge.mock(return_value=httpx.Response(503, text="busy"))
        status.mock(return_value=httpx.Response(502))
        with pytest.raises(DeliveryUnknown) as error:
            await delivery.deliver_recharge(video.db, SERVICE, key=reserved.key, account="alice")
    assert error.value.extensions["attempts"] == 6 and "6 requests" in error.value.message
    logged = await video.logged(reserved.key)
    assert [(a.request, a.http_status, a.outcome) for a in logged] == [
        ("RECHARGE", 503, "UNANSWERED"), ("STATUS", 502, "UNANSWERED")] * 3
    assert await video.state(reserved.key) == "RESERVED"


async def test_a_malformed_success_is_never_taken_for_one(video: Video) -> None:
    reserved = await video.reserve()
    with respx.mock(assert_all_called=False) as partner:
        recharge, status, _ = partner_api(partner)
        recharge.mock(return_value=httpx.Response(200, json={"status": "SUCCEEDED"}))  # no reference
        status.mock(return_value=httpx.Response(200, text="<html>ok</html>"))
        with pytest.raises(DeliveryUnknown):
            await delivery.deliver_recharge(video.db, SERVICE, key=reserved.key, account="alice")
    assert {(a.outcome, a.error) for a in await video.logged(reserved.key)} == {
        ("MALFORMED", "unexpected_body"), ("MALFORMED", "invalid_json")}
    assert await video.state(reserved.key) == "RESERVED"


async def test_what_cannot_be_delivered(video: Video) -> None:
    with respx.mock(assert_all_called=False) as partner:  # no request reaches the partner in any of these
        partner_api(partner)
        with pytest.raises(NotFound):
            await delivery.deliver_recharge(video.db, SERVICE, key="no-such-key", account="alice")
        reserved = await video.reserve()
        for account in ("", " ", "a" * 101, "line\nbreak", "tab\there", None, 42):
            with pytest.raises(InvalidInput) as error:
                await delivery.deliver_recharge(video.db, SERVICE, key=reserved.key, account=account)  # type: ignore[arg-type]
            assert error.value.extensions["field"] == "account"
        for key in ("", "k" * 201):
            with pytest.raises(InvalidInput):
                await delivery.deliver_recharge(video.db, SERVICE, key=key, account="alice")
        issued_otherwise = await video.reserve()
        await reservations.issue(video.db, SERVICE, key=issued_otherwise.key, delivery_reference="by-hand")
        released = await video.reserve()
        await reservations.release(video.db, SERVICE, key=released.key)
        for key, state in ((issued_otherwise.key, "ISSUED"), (released.key, "RELEASED")):
            with pytest.raises(Conflict) as conflict:
                await delivery.deliver_recharge(video.db, SERVICE, key=key, account="alice")
            assert conflict.value.extensions["state"] == state
        assert partner.calls.call_count == 0
    assert await video.logged(reserved.key) == []



async def test_a_retry_sends_the_first_body_even_if_the_benefit_was_edited_meanwhile(video: Video) -> None:
    reserved = await video.reserve()
    with respx.mock(assert_all_called=False) as partner:
        recharge, status, _ = partner_api(partner)
        recharge.mock(return_value=httpx.Response(503))
        status.mock(return_value=unknown())
        with pytest.raises(DeliveryUnknown):
            await delivery.deliver_recharge(video.db, SERVICE, key=reserved.key, account="alice")
        async with video.db.transaction() as session:
            await session.exec(text("UPDATE benefits.benefits SET duration_days = 90 WHERE id = :id"),  # type: ignore[call-overload]
                               params={"id": video.benefit_id})
        recharge.mock(return_value=succeeded("SBX-30"))
        answer = await delivery.deliver_recharge(video.db, SERVICE, key=reserved.key, account="alice")
    assert answer.state == "ISSUED"
    assert {c.request.content for c in recharge.calls} == {recharge.calls.last.request.content}
    assert body(recharge.calls.last.request)["durationDays"] == 30
