"""Bearer-token verification: invalid tokens get 401 before any subgraph is called."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from gateway.http.app import create_app
from gateway.http.settings import ServerSettings
from shared.auth.tokens import mint_token
from tests.gateway.kit.scenarios import Shop

QUERY = {"query": "{ me { name } }"}


@pytest.fixture
async def client(shop: Shop) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(shop.gateway(), ServerSettings(verify_tokens=True))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway.test") as client:
        yield client


@pytest.mark.parametrize(
    "header",
    ["Bearer not-a-jwt", "Bearer ", "Basic dXNlcjpwdw==", "Bearer eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl"],
)
async def test_invalid_token_is_rejected_before_subgraphs(shop: Shop, client: httpx.AsyncClient, header: str) -> None:
    response = await client.post("/graphql", json=QUERY, headers={"authorization": header})
    assert response.status_code == 401
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert error["message"].startswith("Unauthenticated:")
    assert "data" not in response.json()
    assert shop.requests() == {}


async def test_expired_token_is_rejected(shop: Shop, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch) -> None:
    import shared.auth.tokens as tokens

    real_now = tokens._now
    monkeypatch.setattr(tokens, "_now", lambda: real_now() - 3600)  # minted an hour ago
    token = mint_token("member", "3f1c2e8a-0000-4000-8000-000000000001", ttl_seconds=60)
    monkeypatch.setattr(tokens, "_now", real_now)
    response = await client.post("/graphql", json=QUERY, headers={"authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert "expired" in response.json()["errors"][0]["message"]
    assert shop.requests() == {}


async def test_valid_token_is_forwarded_exactly(shop: Shop, client: httpx.AsyncClient) -> None:
    header = "Bearer " + mint_token("member", "3f1c2e8a-0000-4000-8000-000000000001")
    response = await client.post("/graphql", json=QUERY, headers={"authorization": header})
    assert response.status_code == 200
    assert response.json() == {"data": {"me": {"name": "Ada Lovelace"}}}
    assert shop.requests()
    for sub in shop.subgraphs.values():
        for request in sub.requests:
            assert request["headers"]["authorization"] == header


async def test_anonymous_passes(shop: Shop, client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json=QUERY)
    assert response.status_code == 200
    assert response.json() == {"data": {"me": {"name": "Ada Lovelace"}}}


def test_setting_defaults_on_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ABG_GATEWAY_VERIFY_TOKENS", raising=False)
    assert ServerSettings.from_env().verify_tokens is True
    monkeypatch.setenv("ABG_GATEWAY_VERIFY_TOKENS", "false")
    assert ServerSettings.from_env().verify_tokens is False
