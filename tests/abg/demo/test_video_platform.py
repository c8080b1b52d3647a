import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import orjson
import pytest
import uvicorn

from abg.demo import video_platform
from abg.demo.video_platform import BANNER, DEFAULT_SECRET, DemoSettings, DemoVideoPlatform, create_app
from services.benefits.delivery.client import DeliveryClient, RetryPolicy
from services.benefits.delivery.contract import FulfilmentEndpoint, RechargeRequest
from services.benefits.delivery.outcomes import AttemptKind, AttemptOutcome, Delivered, Refused, Revoked, Unknown
from services.benefits.webhooks.signing import SIGNATURE_HEADER, sign

SECRET = "test-demo-secret"
BASE = "http://demo-video.test"
ENDPOINT = FulfilmentEndpoint(BASE, (SECRET,))
FAST = RetryPolicy(base_delay=0.001, max_delay=0.01, request_timeout=2.0)


def request(key: str = "rdm-1", account: str = "demo-alice", days: int = 30) -> RechargeRequest:
    return RechargeRequest(key, account, days, "bnf-video-30", "mbr-42")


def platform_for(**settings) -> DemoVideoPlatform:
    return DemoVideoPlatform(DemoSettings(secrets=(SECRET,), **settings))


async def signed(http: httpx.AsyncClient, method: str, path: str, body: bytes = b"", secret: str = SECRET):
    headers = {SIGNATURE_HEADER: sign(body, [secret], int(time.time())), "content-type": "application/json"}
    return await http.request(method, f"{BASE}{path}", content=body, headers=headers)


@pytest.fixture
def platform() -> DemoVideoPlatform:
    return platform_for()


@pytest.fixture
async def http(platform) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(create_app(platform=platform))) as client:
        yield client


async def test_a_demo_account_is_recharged(http, platform) -> None:
    outcome = await DeliveryClient(http, FAST).recharge(ENDPOINT, request())
    assert isinstance(outcome, Delivered) and outcome.reference.startswith("DEMO-VP-")
    assert [a.outcome for a in outcome.attempts] == [AttemptOutcome.SUCCEEDED]
    assert platform.recharges["rdm-1"].reference == outcome.reference


async def test_other_accounts_are_refused_as_not_found(http) -> None:
    outcome = await DeliveryClient(http, FAST).recharge(ENDPOINT, request(account="alice"))
    assert isinstance(outcome, Refused) and outcome.reason == "ACCOUNT_NOT_FOUND"
    assert "demo-" in outcome.message


async def test_a_replay_returns_the_first_answer(http, platform) -> None:
    client = DeliveryClient(http, FAST)
    first = await client.recharge(ENDPOINT, request())
    again = await client.recharge(ENDPOINT, request())
    assert isinstance(first, Delivered) and isinstance(again, Delivered)
    assert again.reference == first.reference and len(platform.recharges) == 1
    refused = [await client.recharge(ENDPOINT, request("rdm-2", "nobody")) for _ in range(2)]
    assert refused[0] == Refused("ACCOUNT_NOT_FOUND", refused[0].message, refused[0].attempts)
    assert refused[1].reason == refused[0].reason
    # the same key with another request is a conflict, not a second recharge
    other = orjson.dumps({"idempotencyKey": "rdm-1", "account": "demo-bob", "durationDays": 30,
                          "benefitId": "bnf-video-30", "memberRef": "mbr-42"})
    conflict = await signed(http, "POST", "/recharges", other)
    assert conflict.status_code == 409 and conflict.json()["status"] == "CONFLICT"


async def test_the_status_lookup(http) -> None:
    delivered = await DeliveryClient(http, FAST).recharge(ENDPOINT, request())
    found = await signed(http, "GET", "/recharges/rdm-1")
    assert found.status_code == 200
    assert found.json() == {"status": "SUCCEEDED", "reference": delivered.reference, "demo": True}
    missing = await signed(http, "GET", "/recharges/never-sent")
    assert missing.status_code == 404 and missing.json()["status"] == "UNKNOWN"


async def test_a_lost_answer_is_recovered_through_the_status_lookup() -> None:
    platform = platform_for(lost_answer_rate=1.0)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(create_app(platform=platform))) as http:
        outcome = await DeliveryClient(http, FAST).recharge(ENDPOINT, request())
    assert isinstance(outcome, Delivered) and outcome.reference == platform.recharges["rdm-1"].reference
    assert [(a.kind, a.http_status) for a in outcome.attempts] == [
        (AttemptKind.RECHARGE, 503), (AttemptKind.STATUS, 200)]


async def test_a_failing_platform_ends_unknown_and_delivers_nothing() -> None:
    platform = platform_for(failure_rate=1.0)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(create_app(platform=platform))) as http:
        outcome = await DeliveryClient(http, RetryPolicy(max_attempts=4, base_delay=0.001)).recharge(
            ENDPOINT, request())
    assert isinstance(outcome, Unknown) and platform.recharges == {}
    assert [a.outcome for a in outcome.attempts] == [
        AttemptOutcome.UNANSWERED, AttemptOutcome.NOT_RECEIVED, AttemptOutcome.UNANSWERED,
        AttemptOutcome.NOT_RECEIVED]


async def test_a_slow_platform_is_slow() -> None:
    platform = platform_for(delay_seconds=0.2)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(create_app(platform=platform))) as http:
        outcome = await DeliveryClient(http, FAST).recharge(ENDPOINT, request())
        assert isinstance(outcome, Delivered) and outcome.attempts[0].latency_ms >= 200
        impatient = RetryPolicy(max_attempts=2, request_timeout=0.05, base_delay=0.001)
        timed_out = await DeliveryClient(http, impatient).recharge(ENDPOINT, request("rdm-slow"))
    assert isinstance(timed_out, Unknown) and {a.error for a in timed_out.attempts} == {"timeout"}


async def test_unsigned_or_badly_signed_requests_are_refused(http, platform) -> None:
    body = request().body()
    unsigned = await http.post(f"{BASE}/recharges", content=body)
    assert unsigned.status_code == 401 and unsigned.json()["reason"] == "MISSING_HEADER"
    wrong = await signed(http, "POST", "/recharges", body, secret="not-the-secret")
    assert wrong.status_code == 401 and wrong.json()["reason"] == "BAD_SIGNATURE"
    stale = await http.post(f"{BASE}/recharges", content=body,
                            headers={SIGNATURE_HEADER: sign(body, [SECRET], int(time.time()) - 3600)})
    assert stale.status_code == 401 and stale.json()["reason"] == "STALE_TIMESTAMP"
    assert platform.recharges == {}
    # a client with the wrong secret learns nothing was delivered only as "unknown", never as success
    outcome = await DeliveryClient(http, FAST).recharge(FulfilmentEndpoint(BASE, ("wrong",)), request())
    assert isinstance(outcome, Unknown) and "HTTP 401" in outcome.why


async def test_bad_bodies_are_refused(http) -> None:
    for body, why in [(b"{", "not JSON"), (b"[]", "JSON object"), (b'{"idempotencyKey": "a/b"}', "idempotencyKey"),
                      (orjson.dumps({"idempotencyKey": "k", "account": "demo-a", "benefitId": "b",
                                     "memberRef": "m", "durationDays": 0}), "durationDays")]:
        answer = await signed(http, "POST", "/recharges", body)
        assert answer.status_code == 400 and why in answer.json()["message"]
    too_big = await signed(http, "POST", "/recharges", b" " * 20_000)
    assert too_big.status_code == 413


async def test_revoking(http) -> None:
    client = DeliveryClient(http, FAST)
    delivered = await client.recharge(ENDPOINT, request())
    assert isinstance(delivered, Delivered)
    assert isinstance(await client.revoke(ENDPOINT, "rdm-1"), Revoked)
    assert isinstance(await client.revoke(ENDPOINT, "rdm-1"), Revoked)  # idempotent
    replay = await client.recharge(ENDPOINT, request())
    assert isinstance(replay, Refused) and replay.reason == "REVOKED"
    # a key revoked before its recharge arrived is barred
    assert isinstance(await client.revoke(ENDPOINT, "rdm-late"), Revoked)
    late = await client.recharge(ENDPOINT, request("rdm-late"))
    assert isinstance(late, Refused) and late.reason == "REVOKED"


async def test_every_answer_says_it_is_a_demo(http) -> None:
    home = await http.get(f"{BASE}/")
    assert home.json()["notice"] == BANNER and "not a real video platform" in BANNER
    for answer in (home, await http.post(f"{BASE}/recharges"), await signed(http, "GET", "/recharges/x")):
        assert answer.headers["ABG-Demo"] == "true" and answer.json()["demo"] is True


def test_settings_come_from_the_environment() -> None:
    assert DemoSettings.from_env({}) == DemoSettings()
    assert DemoSettings().secrets == (DEFAULT_SECRET,) and DemoSettings().port == 4010
    settings = DemoSettings.from_env({
        "ABG_DEMO_VIDEO_SECRET": "new, old", "ABG_DEMO_VIDEO_PORT": "4999", "ABG_DEMO_VIDEO_DELAY_MS": "250",
        "ABG_DEMO_VIDEO_FAILURE_RATE": "0.1", "ABG_DEMO_VIDEO_LOST_ANSWER_RATE": "0.2",
    })
    assert settings == DemoSettings(("new", "old"), "127.0.0.1", 4999, 0.25, 0.1, 0.2)
    for env, message in [({"ABG_DEMO_VIDEO_FAILURE_RATE": "2"}, "between 0 and 1"),
                         ({"ABG_DEMO_VIDEO_PORT": "http"}, "must be a number"),
                         ({"ABG_DEMO_VIDEO_SECRET": " , "}, "at least one secret")]:
        with pytest.raises(ValueError, match=message):
            DemoSettings.from_env(env)


def test_main_serves_the_app_with_uvicorn(monkeypatch, capsys) -> None:
    served = {}
    monkeypatch.setenv("ABG_DEMO_VIDEO_PORT", "4321")
    monkeypatch.delenv("ABG_DEMO_VIDEO_SECRET", raising=False)
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: served.update(app=app, **options))
    video_platform.main()
    assert served["port"] == 4321 and served["host"] == "127.0.0.1"
    assert served["app"].state.platform.settings.secrets == (DEFAULT_SECRET,)
    err = capsys.readouterr().err
    assert BANNER in err and "development default" in err


class _QuietServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:  # leave Ctrl-C to pytest
        yield


async def test_over_real_http() -> None:
    platform = platform_for()
    server = _QuietServer(uvicorn.Config(create_app(platform=platform), host="127.0.0.1", port=0,
                                         log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve())
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            assert not task.done() and time.monotonic() < deadline, "the demo platform did not start"
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        endpoint = FulfilmentEndpoint(f"http://127.0.0.1:{port}", (SECRET,))
        async with httpx.AsyncClient() as http:
            client = DeliveryClient(http, FAST)
            delivered = await client.recharge(endpoint, request("rdm:real-1"))
            replay = await client.recharge(endpoint, request("rdm:real-1"))
            refused = await client.recharge(endpoint, request("rdm:real-2", "someone"))
            headers = {SIGNATURE_HEADER: sign(b"", [SECRET], int(time.time()))}
            lookup = await http.get(endpoint.recharge_url("rdm:real-1"), headers=headers)
            unknown = await http.get(endpoint.recharge_url("rdm:never"), headers=headers)
    finally:
        server.should_exit = True
        await task
    assert isinstance(delivered, Delivered) and isinstance(replay, Delivered)
    assert replay.reference == delivered.reference
    assert isinstance(refused, Refused) and refused.reason == "ACCOUNT_NOT_FOUND"
    assert lookup.status_code == 200 and lookup.json()["reference"] == delivered.reference
    assert unknown.status_code == 404 and unknown.json()["status"] == "UNKNOWN"
    assert set(platform.recharges) == {"rdm:real-1", "rdm:real-2"}
