"""Per-client rate limits at the gateway: token buckets by verified subject, else by address."""

from __future__ import annotations

import httpx
import pytest

from gateway.http.app import create_app
from gateway.http.ratelimit import TokenBuckets
from gateway.http.settings import ServerSettings
from shared.auth.tokens import mint_token
from tests.gateway.kit.scenarios import Shop

ADA = "3f1c2e8a-0000-4000-8000-000000000001"
GRACE = "3f1c2e8a-0000-4000-8000-000000000002"
QUERY = {"query": "{ me { name } }"}


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_allows_its_burst_then_refills_at_its_rate() -> None:
    clock = Clock()
    buckets = TokenBuckets(rate=2, burst=3, clock=clock)
    assert [buckets.take("a") for _ in range(3)] == [0, 0, 0]
    assert buckets.take("a") == pytest.approx(0.5)  # empty: one token comes back in half a second
    assert buckets.take("b") == 0  # every caller has a bucket of its own
    clock.now += 0.5
    assert buckets.take("a") == 0
    assert buckets.take("a") > 0
    clock.now += 60  # a long pause refills up to the burst, no further
    assert [buckets.take("a") for _ in range(4)][-1] > 0


def test_refused_requests_do_not_dig_the_bucket_deeper() -> None:
    clock = Clock()
    buckets = TokenBuckets(rate=1, burst=1, clock=clock)
    buckets.take("a")
    waits = [buckets.take("a") for _ in range(50)]
    assert max(waits) == pytest.approx(1.0)
    clock.now += 1
    assert buckets.take("a") == 0


def test_buckets_forget_the_least_recently_seen_callers() -> None:
    buckets = TokenBuckets(rate=1, burst=1, max_callers=2, clock=Clock())
    for caller in ("a", "b", "c"):
        buckets.take(caller)
    assert buckets.take("a") == 0  # forgotten, so a full bucket again
    assert buckets.take("c") > 0


def test_a_rate_needs_to_be_positive() -> None:
    with pytest.raises(ValueError):
        TokenBuckets(rate=0, burst=1)


def test_on_by_default_outside_development(monkeypatch: pytest.MonkeyPatch) -> None:
    for env, expected in (("development", None), ("test", None), ("production", 50.0)):
        monkeypatch.setenv("ABG_ENV", env)
        assert ServerSettings.from_env().rate_limit_per_second == expected
    monkeypatch.setenv("ABG_GATEWAY_RATE_LIMIT_PER_SECOND", "off")
    assert ServerSettings.from_env().rate_limit_per_second is None
    monkeypatch.setenv("ABG_GATEWAY_RATE_LIMIT_PER_SECOND", "5")
    monkeypatch.setenv("ABG_GATEWAY_RATE_LIMIT_BURST", "7")
    assert (ServerSettings.from_env().rate_limit_per_second, ServerSettings.from_env().rate_limit_burst) == (5.0, 7)


def _client(shop: Shop, **settings: object) -> httpx.AsyncClient:
    app = create_app(shop.gateway(), ServerSettings(**settings))  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway.test")


def _bearer(subject: str) -> dict[str, str]:
    return {"authorization": f"Bearer {mint_token('member', subject, ttl_seconds=60)}"}


async def test_a_caller_over_its_limit_gets_429_with_retry_after_and_no_subgraph_is_called(shop: Shop) -> None:
    async with _client(shop, verify_tokens=True, rate_limit_per_second=0.5, rate_limit_burst=2) as client:
        allowed = [await client.post("/graphql", json=QUERY, headers=_bearer(ADA)) for _ in range(2)]
        calls = shop.requests()
        limited = await client.post("/graphql", json=QUERY, headers=_bearer(ADA))
        assert shop.requests() == calls
        other_member = await client.post("/graphql", json=QUERY, headers=_bearer(GRACE))
    assert [r.status_code for r in allowed] == [200, 200]
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "2"
    (error,) = limited.json()["errors"]
    assert error["extensions"] == {"code": "RATE_LIMITED", "retryable": True, "retryAfterSeconds": 2}
    assert other_member.status_code == 200


async def test_anonymous_callers_are_limited_by_address_and_tokens_are_not_a_way_round_it(shop: Shop) -> None:
    async with _client(shop, verify_tokens=True, rate_limit_per_second=0.5, rate_limit_burst=1) as client:
        assert (await client.post("/graphql", json=QUERY)).status_code == 200
        assert (await client.post("/graphql", json=QUERY)).status_code == 429
        # a forged token is refused before it could name a fresh bucket
        forged = await client.post("/graphql", json=QUERY, headers={"authorization": "Bearer not-a-token"})
        assert forged.status_code == 401


async def test_no_limit_unless_configured(shop: Shop) -> None:
    async with _client(shop) as client:
        statuses = {(await client.post("/graphql", json=QUERY)).status_code for _ in range(30)}
    assert statuses == {200}
