import asyncio
import json
import time

import httpx
import orjson
import pytest
import respx

from services.benefits.delivery.client import DeliveryClient, RetryPolicy
from services.benefits.delivery.contract import FulfilmentEndpoint, RechargeRequest
from services.benefits.delivery.outcomes import (
    AttemptKind,
    AttemptOutcome,
    Delivered,
    Refused,
    Revoked,
    Unknown,
    require_delivered,
)
from services.benefits.errors import DeliveryUnknown, PartnerRefused
from services.benefits.webhooks.signing import SIGNATURE_HEADER, verify

NOW = 1_800_000_000.0
BASE = "https://video.partner.test/abg"
SECRET = "partner-secret-0123456789"
ENDPOINT = FulfilmentEndpoint(BASE + "/", (SECRET,))
REQUEST = RechargeRequest("rdm:0190f6c2-7d1e", "demo-alice", 30, "bnf-1", "mbr-1")
STATUS_URL = f"{BASE}/recharges/rdm%3A0190f6c2-7d1e"
OK = httpx.Response(200, json={"status": "SUCCEEDED", "reference": "VP-123"})
NOT_RECEIVED = httpx.Response(404, json={"status": "UNKNOWN"})


class FakeTime:
    """Monotonic time that only moves when the client sleeps; the backoffs are recorded."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def wall(self) -> float:
        return NOW + self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
async def http():
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
def mock():
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as router:
        yield router


@pytest.fixture
def clock() -> FakeTime:
    return FakeTime()


def client_for(http: httpx.AsyncClient, clock: FakeTime, **policy) -> DeliveryClient:
    return DeliveryClient(http, RetryPolicy(**policy), wall_clock=clock.wall, monotonic=clock.monotonic,
                          sleep=clock.sleep, jitter=lambda: 0.5)


def sent(mock: respx.MockRouter) -> list[str]:
    """Each request as "METHOD path", after checking its signature the way a partner would."""
    seen = []
    for call in mock.calls:
        request = call.request
        verify(request.headers.get(SIGNATURE_HEADER), request.content, [SECRET], now=NOW,
               tolerance=3600)
        if request.method == "POST" and request.url.path.endswith("/recharges"):
            assert request.content == REQUEST.body()  # the same body, so the same key, every time
            assert request.headers["content-type"] == "application/json"
        else:
            assert request.content == b""  # a GET signs (and sends) an empty body
        seen.append(f"{request.method} {request.url.raw_path.decode().removeprefix('/abg')}")
    return seen


async def test_a_recharge_that_succeeds(http, mock, clock) -> None:
    mock.post(f"{BASE}/recharges").mock(return_value=OK)
    outcome = await client_for(http, clock).recharge(ENDPOINT, REQUEST)
    assert isinstance(outcome, Delivered) and outcome.reference == "VP-123"
    assert sent(mock) == ["POST /recharges"]
    assert orjson.loads(mock.calls[0].request.content) == {
        "idempotencyKey": "rdm:0190f6c2-7d1e", "account": "demo-alice", "durationDays": 30,
        "benefitId": "bnf-1", "memberRef": "mbr-1",
    }
    (attempt,) = outcome.attempts
    assert (attempt.kind, attempt.http_status, attempt.error, attempt.outcome, attempt.detail) == (
        AttemptKind.RECHARGE, 200, None, AttemptOutcome.SUCCEEDED, "VP-123")
    assert attempt.at.timestamp() == NOW and attempt.latency_ms >= 0
    assert json.loads(json.dumps(attempt.as_dict()))["outcome"] == "SUCCEEDED"
    assert require_delivered(outcome) is outcome


async def test_a_refusal_is_final_and_typed(http, mock, clock) -> None:
    mock.post(f"{BASE}/recharges").mock(return_value=httpx.Response(
        422, json={"status": "REFUSED", "reason": "ACCOUNT_NOT_FOUND", "message": "no such account"}))
    outcome = await client_for(http, clock).recharge(ENDPOINT, REQUEST)
    assert outcome == Refused("ACCOUNT_NOT_FOUND", "no such account", outcome.attempts)
    assert sent(mock) == ["POST /recharges"] and clock.sleeps == []
    with pytest.raises(PartnerRefused) as refused:
        require_delivered(outcome, idempotency_key=REQUEST.idempotency_key)
    assert refused.value.as_extensions() == {
        "code": "PARTNER_REFUSED", "reason": "ACCOUNT_NOT_FOUND", "idempotencyKey": "rdm:0190f6c2-7d1e"}


async def test_after_a_timeout_the_status_lookup_comes_before_posting_again(http, mock, clock) -> None:
    mock.post(f"{BASE}/recharges").mock(side_effect=[httpx.ReadTimeout("slow"), OK])
    mock.get(STATUS_URL).mock(return_value=NOT_RECEIVED)
    outcome = await client_for(http, clock).recharge(ENDPOINT, REQUEST)
    assert isinstance(outcome, Delivered) and outcome.reference == "VP-123"
    assert sent(mock) == ["POST /recharges", "GET /recharges/rdm%3A0190f6c2-7d1e", "POST /recharges"]
    assert [(a.kind, a.outcome, a.error) for a in outcome.attempts] == [
        (AttemptKind.RECHARGE, AttemptOutcome.UNANSWERED, "timeout"),
        (AttemptKind.STATUS, AttemptOutcome.NOT_RECEIVED, None),
        (AttemptKind.RECHARGE, AttemptOutcome.SUCCEEDED, None),
    ]
    assert clock.sleeps == [0.1875]  # backed off once, before the lookup; "never received" posts at once


async def test_a_timeout_resolved_by_the_status_lookup_is_not_posted_again(http, mock, clock) -> None:
    mock.post(f"{BASE}/recharges").mock(side_effect=[httpx.ReadTimeout("slow")])
    mock.get(STATUS_URL).mock(side_effect=[
        httpx.Response(200, json={"status": "PENDING"}),
        httpx.Response(200, json={"status": "SUCCEEDED", "reference": "VP-9"}),
    ])
    outcome = await client_for(http, clock).recharge(ENDPOINT, REQUEST)
    assert isinstance(outcome, Delivered) and outcome.reference == "VP-9"
    assert [a.outcome for a in outcome.attempts] == [
        AttemptOutcome.UNANSWERED, AttemptOutcome.PENDING, AttemptOutcome.SUCCEEDED]
    assert len(mock.calls) == 3 and sum(c.request.method == "POST" for c in mock.calls) == 1


async def test_timeouts_while_the_partner_says_unknown_end_unknown_within_the_bound(http, mock, clock) -> None:
    mock.post(f"{BASE}/recharges").mock(side_effect=httpx.ReadTimeout("slow"))
    mock.get(STATUS_URL).mock(return_value=NOT_RECEIVED)
    outcome = await client_for(http, clock, max_attempts=6).recharge(ENDPOINT, REQUEST)
    assert isinstance(outcome, Unknown)
    assert sent(mock) == ["POST /recharges", "GET /recharges/rdm%3A0190f6c2-7d1e"] * 3
    assert outcome.why == "gave up after 6 requests; the last STATUS request ended NOT_RECEIVED (HTTP 404)"
    with pytest.raises(DeliveryUnknown) as unknown:
        require_delivered(outcome, idempotency_key="rdm:0190f6c2-7d1e")
    assert unknown.value.as_extensions() == {"code": "DELIVERY_UNKNOWN", "idempotencyKey": "rdm:0190f6c2-7d1e"}


async def test_a_5xx_storm_gives_up_as_unknown_with_every_attempt_logged(http, mock, clock) -> None:
    mock.post(f"{BASE}/recharges").mock(return_value=httpx.Response(503, text="busy"))
    mock.get(STATUS_URL).mock(return_value=httpx.Response(502, text="bad gateway"))
    outcome = await client_for(http, clock, max_attempts=5, base_delay=0.2, max_delay=1.0).recharge(
        ENDPOINT, REQUEST)
    assert isinstance(outcome, Unknown)
    assert [(a.kind.value, a.http_status, a.outcome.value) for a in outcome.attempts] == [
        ("RECHARGE", 503, "UNANSWERED"), ("STATUS", 502, "UNANSWERED"), ("RECHARGE", 503, "UNANSWERED"),
        ("STATUS", 502, "UNANSWERED"), ("RECHARGE", 503, "UNANSWERED"),
    ]
    assert len(mock.calls) == 5
    # exponential with equal jitter (the fake jitter is 0.5: three quarters of each step), capped
    assert clock.sleeps == pytest.approx([0.15, 0.3, 0.6, 0.75])


async def test_the_total_time_is_bounded_too(http, mock, clock) -> None:
    mock.post(f"{BASE}/recharges").mock(return_value=httpx.Response(500))
    mock.get(STATUS_URL).mock(return_value=httpx.Response(500))
    outcome = await client_for(http, clock, max_attempts=100, max_total_seconds=10, base_delay=1,
                               max_delay=8).recharge(ENDPOINT, REQUEST)
    assert isinstance(outcome, Unknown) and outcome.why.startswith("gave up after 10 s")
    assert clock.now < 10 and len(outcome.attempts) == 4  # waits of 0.75, 1.5, 3: the next (6) would pass 10 s


async def test_retry_after_is_honoured_up_to_the_ceiling(http, mock, clock) -> None:
    mock.post(f"{BASE}/recharges").mock(side_effect=[
        httpx.Response(429, headers={"retry-after": "2"}), httpx.Response(503, headers={"retry-after": "600"})])
    mock.get(STATUS_URL).mock(return_value=NOT_RECEIVED)
    await client_for(http, clock, max_attempts=4, base_delay=0.1, max_delay=5).recharge(ENDPOINT, REQUEST)
    assert clock.sleeps == [2.0, 5.0]


async def test_a_malformed_answer_is_never_taken_as_success(http, mock, clock) -> None:
    mock.post(f"{BASE}/recharges").mock(return_value=httpx.Response(200, text="<html>OK</html>"))
    mock.get(STATUS_URL).mock(side_effect=[
        httpx.Response(200, json={"status": "SUCCEEDED"}),  # no reference: not an answer either
        NOT_RECEIVED,
        httpx.Response(200, json={"status": "SUCCEEDED", "reference": "VP-7"}),
    ])
    outcome = await client_for(http, clock).recharge(ENDPOINT, REQUEST)
    assert isinstance(outcome, Delivered) and outcome.reference == "VP-7"
    assert [(a.kind.value, a.outcome.value, a.error) for a in outcome.attempts] == [
        ("RECHARGE", "MALFORMED", "invalid_json"),
        ("STATUS", "MALFORMED", "unexpected_body"),
        ("RECHARGE", "MALFORMED", "invalid_json"),
        ("STATUS", "NOT_RECEIVED", None),
        ("RECHARGE", "MALFORMED", "invalid_json"),
        ("STATUS", "SUCCEEDED", None),
    ]


async def test_nothing_but_malformed_answers_ends_unknown(http, mock, clock) -> None:
    mock.post(f"{BASE}/recharges").mock(return_value=httpx.Response(200, json={"status": "OK", "reference": "x"}))
    mock.get(STATUS_URL).mock(return_value=httpx.Response(200, json=["SUCCEEDED"]))
    outcome = await client_for(http, clock, max_attempts=4).recharge(ENDPOINT, REQUEST)
    assert isinstance(outcome, Unknown)
    assert {a.outcome for a in outcome.attempts} == {AttemptOutcome.MALFORMED}


async def test_an_answer_over_the_size_limit_is_malformed(http, mock, clock) -> None:
    huge = {"status": "SUCCEEDED", "reference": "VP-1", "padding": "x" * 100_000}
    mock.post(f"{BASE}/recharges").mock(return_value=httpx.Response(200, json=huge))
    mock.get(STATUS_URL).mock(return_value=OK)
    outcome = await client_for(http, clock).recharge(ENDPOINT, REQUEST)
    assert isinstance(outcome, Delivered)
    assert outcome.attempts[0].error == "answer_too_large" and outcome.attempts[1].kind is AttemptKind.STATUS


async def test_slow_answers_are_cut_off_at_the_request_time_limit(http, mock) -> None:
    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(5)
        return OK

    mock.post(f"{BASE}/recharges").mock(side_effect=slow)
    mock.get(STATUS_URL).mock(side_effect=[slow, OK])
    client = DeliveryClient(http, RetryPolicy(request_timeout=0.1, base_delay=0.01))
    started = time.monotonic()
    outcome = await client.recharge(ENDPOINT, REQUEST)
    elapsed = time.monotonic() - started
    assert isinstance(outcome, Delivered)
    assert [(a.kind.value, a.error) for a in outcome.attempts] == [
        ("RECHARGE", "timeout"), ("STATUS", "timeout"), ("RECHARGE", "timeout"), ("STATUS", None)]
    assert all(90 <= a.latency_ms < 1000 for a in outcome.attempts[:3])
    assert elapsed < 2


async def test_a_request_that_never_connected_is_posted_again_without_a_lookup(http, mock, clock) -> None:
    mock.post(f"{BASE}/recharges").mock(side_effect=[httpx.ConnectError("refused"), OK])
    outcome = await client_for(http, clock).recharge(ENDPOINT, REQUEST)
    assert isinstance(outcome, Delivered)
    assert sent(mock) == ["POST /recharges", "POST /recharges"]
    assert outcome.attempts[0].outcome is AttemptOutcome.NOT_SENT and outcome.attempts[0].error == "connect_error"


async def test_a_dropped_connection_is_an_unknown_outcome(http, mock, clock) -> None:
    mock.post(f"{BASE}/recharges").mock(side_effect=httpx.RemoteProtocolError("peer closed"))
    mock.get(STATUS_URL).mock(return_value=OK)
    outcome = await client_for(http, clock).recharge(ENDPOINT, REQUEST)
    assert isinstance(outcome, Delivered)
    assert [(a.outcome.value, a.error) for a in outcome.attempts] == [
        ("UNANSWERED", "transport_error"), ("SUCCEEDED", None)]


async def test_a_rejected_request_is_resolved_by_the_lookup_and_not_posted_again(http, mock, clock) -> None:
    mock.post(f"{BASE}/recharges").mock(return_value=httpx.Response(401, text="bad signature"))
    mock.get(STATUS_URL).mock(return_value=NOT_RECEIVED)
    outcome = await client_for(http, clock).recharge(ENDPOINT, REQUEST)
    assert isinstance(outcome, Unknown)
    assert outcome.why == ("the partner rejected the recharge request (HTTP 401) "
                           "and its status lookup ended NOT_RECEIVED")
    assert sent(mock) == ["POST /recharges", "GET /recharges/rdm%3A0190f6c2-7d1e"]


async def test_signatures_carry_every_active_secret_and_verify_on_every_request(http, mock, clock) -> None:
    rotating = FulfilmentEndpoint(BASE, ("old-secret", "new-secret"))
    mock.post(f"{BASE}/recharges").mock(side_effect=[httpx.ReadTimeout("slow"), OK])
    mock.get(STATUS_URL).mock(return_value=NOT_RECEIVED)
    await client_for(http, clock, base_delay=4, max_delay=8).recharge(rotating, REQUEST)
    assert len(mock.calls) == 3
    for call in mock.calls:
        header = call.request.headers[SIGNATURE_HEADER]
        assert header.count("v1=") == 2
        for secret in ("old-secret", "new-secret"):  # a partner knowing either one accepts it
            assert verify(header, call.request.content, [secret], now=clock.wall()).timestamp >= NOW
    # each request is signed when it is sent, so a late retry is still inside the window
    times = [int(call.request.headers[SIGNATURE_HEADER].split(",")[0][2:]) for call in mock.calls]
    assert times == sorted(times) and times[-1] > times[0]


async def test_revoking(http, mock, clock) -> None:
    url = f"{STATUS_URL}/revoke"
    route = mock.post(url).mock(side_effect=[httpx.Response(503), httpx.Response(200, json={"status": "REVOKED"})])
    outcome = await client_for(http, clock).revoke(ENDPOINT, REQUEST.idempotency_key)
    assert isinstance(outcome, Revoked) and len(outcome.attempts) == 2 and route.call_count == 2
    assert all(c.request.content == b"" for c in route.calls)
    assert sent(mock) == ["POST /recharges/rdm%3A0190f6c2-7d1e/revoke"] * 2
    route.side_effect = [httpx.Response(422, json={"status": "REFUSED", "reason": "ALREADY_CONSUMED"})]
    refused = await client_for(http, clock).revoke(ENDPOINT, REQUEST.idempotency_key)
    assert isinstance(refused, Refused) and refused.reason == "ALREADY_CONSUMED" and refused.message == ""
    route.side_effect = [httpx.Response(501)]
    unsupported = await client_for(http, clock).revoke(ENDPOINT, REQUEST.idempotency_key)
    assert isinstance(unsupported, Refused) and unsupported.reason == "REVOKE_NOT_SUPPORTED"
    route.side_effect = [httpx.Response(403)]
    rejected = await client_for(http, clock).revoke(ENDPOINT, REQUEST.idempotency_key)
    assert isinstance(rejected, Unknown) and "HTTP 403" in rejected.why
