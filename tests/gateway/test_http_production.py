"""The gateway in production (`ABG_ENV=production`): no introspection, no "Did you mean" hints, no
explorer, and metrics only behind a bearer token, unless settings turn them back on."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from gateway.http.app import create_app
from gateway.http.settings import ServerSettings
from tests.gateway.kit.scenarios import Shop

INTROSPECTION = "{ __schema { queryType { name } } }"
TYPO = "{ me { nmae } }"
TYPE_TYPO = "query Q($n: Strin) { me { name } }"
TOKEN = "s3cret-metrics-token-for-the-test"
GATEWAY_VARIABLES = (
    "ABG_ENV", "ABG_INTROSPECTION", "ABG_SUGGESTIONS", "ABG_METRICS_TOKEN", "ABG_GATEWAY_METRICS_TOKEN",
    "ABG_GATEWAY_INTROSPECTION", "ABG_GATEWAY_SUGGESTIONS", "ABG_GATEWAY_METRICS", "ABG_GATEWAY_EXPLORER",
)


def settings_of(monkeypatch: pytest.MonkeyPatch, **environ: str) -> ServerSettings:
    for name in GATEWAY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    return ServerSettings.from_env()


async def _client(shop: Shop, settings: ServerSettings) -> AsyncIterator[httpx.AsyncClient]:
    settings.verify_tokens = False
    app = create_app(shop.gateway(), settings)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway.test") as client:
            yield client


@pytest.fixture
async def production(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[httpx.AsyncClient]:
    async for client in _client(shop, settings_of(monkeypatch, ABG_ENV="production")):
        yield client


async def _ask(client: httpx.AsyncClient, query: str) -> dict:
    return (await client.post("/graphql", json={"query": query})).json()


def test_production_defaults_disclose_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    production = settings_of(monkeypatch, ABG_ENV="production")
    assert (production.introspection, production.suggestions, production.explorer, production.metrics) == (
        False, False, False, False,
    )
    development = settings_of(monkeypatch)
    assert (development.introspection, development.suggestions, development.explorer, development.metrics) == (
        True, True, True, True,
    )
    assert development.metrics_token is None


def test_settings_turn_each_back_on_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    shared = settings_of(monkeypatch, ABG_ENV="production", ABG_INTROSPECTION="true", ABG_SUGGESTIONS="true")
    assert shared.introspection and shared.suggestions  # the subgraphs' settings count at the gateway too
    own = settings_of(
        monkeypatch, ABG_ENV="production", ABG_INTROSPECTION="true", ABG_GATEWAY_INTROSPECTION="false",
        ABG_GATEWAY_SUGGESTIONS="on", ABG_GATEWAY_EXPLORER="true",
    )
    assert (own.introspection, own.suggestions, own.explorer) == (False, True, True)  # the gateway's own win
    # metrics in production only with a token, even when asked for
    assert not settings_of(monkeypatch, ABG_ENV="production", ABG_GATEWAY_METRICS="true").metrics
    with_token = settings_of(monkeypatch, ABG_ENV="production", ABG_METRICS_TOKEN=TOKEN)
    assert with_token.metrics and with_token.metrics_token == TOKEN
    assert settings_of(monkeypatch, ABG_ENV="production", ABG_GATEWAY_METRICS_TOKEN="t").metrics_token == "t"


async def test_production_refuses_introspection(production: httpx.AsyncClient) -> None:
    for query in (INTROSPECTION, '{ __type(name: "User") { name } }', "{ me { name } __schema { types { name } } }"):
        body = await _ask(production, query)
        assert body["errors"][0]["extensions"]["code"] == "INTROSPECTION_DISABLED", body
        assert "queryType" not in str(body) and "types" not in str(body.get("data"))
    assert (await _ask(production, "{ me { name __typename } }"))["data"]["me"]["__typename"] == "User"


async def test_production_gives_no_suggestions(production: httpx.AsyncClient) -> None:
    for query in (TYPO, TYPE_TYPO):
        for _ in range(2):  # the first answer and the cached one
            body = await _ask(production, query)
            assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
            assert "Did you mean" not in str(body), body


async def test_development_suggests(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    async for client in _client(shop, settings_of(monkeypatch, ABG_ENV="development")):
        assert "Did you mean 'name'?" in str(await _ask(client, TYPO))
        assert "Did you mean 'String'?" in str(await _ask(client, TYPE_TYPO))
        assert (await _ask(client, INTROSPECTION))["data"] == {"__schema": {"queryType": {"name": "Query"}}}
        assert (await client.get("/explorer")).status_code == 200
        assert (await client.get("/metrics")).status_code == 200


async def test_production_serves_no_explorer_and_no_open_metrics(production: httpx.AsyncClient) -> None:
    assert (await production.get("/explorer")).status_code == 404
    assert (await production.get("/metrics")).status_code == 404
    assert (await production.get("/health")).status_code == 200


async def test_metrics_need_the_token_when_one_is_set(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    for env in ("production", "development"):
        async for client in _client(shop, settings_of(monkeypatch, ABG_ENV=env, ABG_METRICS_TOKEN=TOKEN)):
            await _ask(client, "{ me { name } }")
            for headers in ({}, {"authorization": "Bearer wrong"}, {"authorization": TOKEN}):
                refused = await client.get("/metrics", headers=headers)
                assert refused.status_code == 401 and "gateway_requests" not in refused.text
                assert refused.headers["www-authenticate"] == "Bearer"
            allowed = await client.get("/metrics", headers={"authorization": f"Bearer {TOKEN}"})
            assert allowed.status_code == 200 and "gateway_requests_total" in allowed.text
