"""Access directives over HTTP with real bearer tokens: the token the gateway verified decides
what the supergraph's @authenticated / @requiresScopes / @policy let through."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from gateway.http.app import create_app
from gateway.http.settings import ServerSettings
from shared.auth.tokens import mint_token
from tests.gateway.kit.club import Club

MEMBER_ID = "3f1c2e8a-0000-4000-8000-000000000001"
QUERY = '{ me { name } member(id: "m1") { notes balance } audit { what } }'


@pytest.fixture
async def client(club: Club) -> AsyncIterator[httpx.AsyncClient]:
    club.reset()
    gateway = club.gateway(policies={"read_pii": lambda caller: caller.principal.is_operator})
    app = create_app(gateway, ServerSettings(verify_tokens=True))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway.test") as client:
        yield client
    await gateway.aclose()


def _bearer(kind: str, subject: str, roles: tuple[str, ...] = ()) -> dict[str, str]:
    return {"authorization": "Bearer " + mint_token(kind, subject, roles)}


def _refused(body: dict) -> list[list[object]]:
    return [e["path"] for e in body.get("errors", []) if e["extensions"]["code"] == "UNAUTHORIZED_FIELD_OR_TYPE"]


async def test_anonymous_caller_gets_only_public_fields(club: Club, client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": QUERY})
    assert response.status_code == 200
    body = response.json()
    assert _refused(body) == [["me"], ["member", "notes"], ["member", "balance"], ["audit"]]
    assert body["data"] == {"me": None, "member": None, "audit": None}
    assert club.requests() == {"accounts": 1}  # points (balance) was never asked


async def test_member_token(club: Club, client: httpx.AsyncClient) -> None:
    body = (await client.post("/graphql", json={"query": QUERY}, headers=_bearer("member", MEMBER_ID))).json()
    assert _refused(body) == [["member", "notes"], ["audit"]]
    assert body["data"] == {"me": {"name": "Ada"}, "member": {"notes": None, "balance": 120}, "audit": None}


async def test_operator_token_sees_everything(client: httpx.AsyncClient) -> None:
    body = (await client.post("/graphql", json={"query": QUERY}, headers=_bearer("staff", "ops-1", ("operator",)))).json()
    assert "errors" not in body
    assert body["data"]["audit"] == [{"what": "tier policy changed"}]
    assert body["data"]["member"] == {"notes": "prefers vouchers", "balance": 120}


async def test_customer_service_token(client: httpx.AsyncClient) -> None:
    headers = _bearer("staff", "cs-1", ("customer_service",))
    body = (await client.post("/graphql", json={"query": QUERY}, headers=headers)).json()
    # notes admit customer service; balance is for the member or operators; audit needs staff AND operator
    assert _refused(body) == [["member", "balance"], ["audit"]]
    assert body["data"]["me"] == {"name": "Ada"}


async def test_policy_gets_the_verified_principal(client: httpx.AsyncClient) -> None:
    query = '{ member(id: "m1") { phone } }'
    operator = (await client.post("/graphql", json={"query": query}, headers=_bearer("staff", "o", ("operator",)))).json()
    assert operator == {"data": {"member": {"phone": "+86 138 0000 0001"}}}
    member = (await client.post("/graphql", json={"query": query}, headers=_bearer("member", MEMBER_ID))).json()
    assert _refused(member) == [["member", "phone"]]


async def test_an_invalid_token_is_still_401(club: Club, client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": QUERY}, headers={"authorization": "Bearer nope"})
    assert response.status_code == 401
    assert club.requests() == {}
