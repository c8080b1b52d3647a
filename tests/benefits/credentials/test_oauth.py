"""POST /oauth/token (RFC 6749 client credentials) and `partnerToken`, over HTTP through the app, and
the token used at the benefits and points subgraphs; API keys through GraphQL by role."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from shared.auth.tokens import mint_token
from shared.database import Database
from shared.federation import create_subgraph_app

from services.benefits.config import reset_benefits_settings_cache
from services.benefits.credentials import oauth, service
from services.benefits.partners import service as partners
from services.benefits.partners.answers import PartnerView
from services.benefits.schema import schema
from tests.benefits.kit import OPERATOR, STRANGER, gql, register, roles_for

FORM = {"content-type": "application/x-www-form-urlencoded"}


@pytest.fixture(autouse=True)
def no_remembered_failures() -> Iterator[None]:
    service.reset_failures()
    yield
    service.reset_failures()


@pytest.fixture
async def http(database: Database) -> AsyncIterator[httpx.AsyncClient]:
    app = create_subgraph_app(service="benefits", schema=schema, public_routes=[oauth.route()])
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://benefits") as client:
            yield client


@pytest.fixture
async def metro(database: Database) -> PartnerView:
    return await register(database)


@pytest.fixture
async def key(database: Database, metro: PartnerView) -> str:
    return (await service.issue_api_key(database, OPERATOR, metro.id, "till")).api_key


def _basic(user: str, password: str) -> dict[str, str]:
    return {"authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


async def _post(http: httpx.AsyncClient, body: str | bytes, headers: dict[str, str] | None = None) -> httpx.Response:
    return await http.post(oauth.PATH, content=body, headers={**FORM, **(headers or {})})


async def test_client_secret_in_the_form_gets_a_bearer_token_that_the_subgraphs_accept(
    http: httpx.AsyncClient, metro: PartnerView, key: str
) -> None:
    response = await _post(http, f"grant_type=client_credentials&client_secret={key}")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store" and response.headers["pragma"] == "no-cache"
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in"} and (body["token_type"], body["expires_in"]) == ("Bearer", 900)
    bearer = {"authorization": f"Bearer {body['access_token']}"}
    mine = (await http.post("/graphql", json={"query": "{ myPartner { id } }"}, headers=bearer)).json()
    assert mine["data"]["myPartner"]["id"] == str(metro.id)

    from services.points.schema import schema as points_schema

    points = create_subgraph_app(service="points", schema=points_schema)
    query = 'query($r: [_Any!]!) { _entities(representations: $r) { ... on Partner { id pointsProgram { currency } } } }'
    async with points.router.lifespan_context(points):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=points), base_url="http://points") as client:
            answer = (await client.post("/graphql", headers=bearer, json={
                "query": query, "variables": {"r": [{"__typename": "Partner", "id": str(metro.id)}]},
            })).json()
    assert answer == {"data": {"_entities": [{"id": str(metro.id), "pointsProgram": None}]}}  # signed in, its own partner


async def test_http_basic_with_the_partner_id(http: httpx.AsyncClient, metro: PartnerView, key: str) -> None:
    ok = await _post(http, "grant_type=client_credentials", _basic(str(metro.id), key))
    assert ok.status_code == 200 and ok.json()["token_type"] == "Bearer"
    also = await _post(http, f"grant_type=client_credentials&client_id={metro.id}", _basic(str(metro.id), key))
    assert also.status_code == 200
    wrong_id = await _post(http, "grant_type=client_credentials", _basic(STRANGER.subject or "", key))
    assert wrong_id.status_code == 401 and wrong_id.json()["error"] == "invalid_client"
    assert wrong_id.headers["www-authenticate"] == 'Basic realm="partners"'


ERRORS: list[tuple[Any, dict[str, str], int, str]] = [
    ("client_secret=K", FORM, 400, "invalid_request"),  # no grant_type
    ("grant_type=password&client_secret=K", FORM, 400, "unsupported_grant_type"),
    ("grant_type=authorization_code&client_secret=K", FORM, 400, "unsupported_grant_type"),
    ("grant_type=client_credentials", FORM, 401, "invalid_client"),  # no credentials at all
    ("grant_type=client_credentials&client_secret=abk_nope", FORM, 401, "invalid_client"),
    ("grant_type=client_credentials&grant_type=client_credentials&client_secret=K", FORM, 400, "invalid_request"),
    ("grant_type=client_credentials&client_secret=K&client_secret=K", FORM, 400, "invalid_request"),
    ('{"grant_type": "client_credentials"}', {"content-type": "application/json"}, 400, "invalid_request"),
    ("grant_type=client_credentials&client_secret=" + "k" * 5000, FORM, 400, "invalid_request"),
    ("grant_type=client_credentials&broken", FORM, 400, "invalid_request"),
    (b"grant_type=client_credentials&client_secret=\xff", FORM, 400, "invalid_request"),
]


@pytest.mark.parametrize(("body", "headers", "status", "error"), ERRORS)
async def test_errors_follow_rfc_6749(http: httpx.AsyncClient, key: str, body: Any, headers: dict[str, str], status: int, error: str) -> None:
    if isinstance(body, str):
        body = body.replace("client_secret=K", f"client_secret={key}")
    response = await http.post(oauth.PATH, content=body, headers=headers)
    assert (response.status_code, response.json()["error"]) == (status, error), response.text
    assert response.json()["error_description"]
    assert response.headers["cache-control"] == "no-store"


async def test_basic_and_form_credentials_together_or_garbled_basic_are_refused(http: httpx.AsyncClient, metro: PartnerView, key: str) -> None:
    both = await _post(http, f"grant_type=client_credentials&client_secret={key}", _basic(str(metro.id), key))
    assert (both.status_code, both.json()["error"]) == (400, "invalid_request")
    garbled = await _post(http, "grant_type=client_credentials", {"authorization": "Basic !!!"})
    assert (garbled.status_code, garbled.json()["error"]) == (401, "invalid_client")
    bearer = await _post(http, "grant_type=client_credentials", {"authorization": "Bearer whatever"})
    assert (bearer.status_code, bearer.json()["error"]) == (401, "invalid_client")
    assert (await http.get(oauth.PATH)).status_code == 405


async def test_a_suspended_partner_and_a_revoked_key_get_no_token(http: httpx.AsyncClient, database: Database, metro: PartnerView, key: str) -> None:
    await partners.suspend_partner(database, OPERATOR, metro.id, "audit")
    suspended = await _post(http, f"grant_type=client_credentials&client_secret={key}")
    assert (suspended.status_code, suspended.json()["error"]) == (401, "invalid_client")
    await partners.activate_partner(database, OPERATOR, metro.id)
    (key_view,) = (await service.keys_of(database, OPERATOR, [metro.id]))[0] or []
    await service.revoke_api_key(database, OPERATOR, key_view.id)
    revoked = await _post(http, f"grant_type=client_credentials&client_secret={key}")
    assert (revoked.status_code, revoked.json()["error"]) == (401, "invalid_client")


async def test_too_many_failures_answer_429_with_retry_after(http: httpx.AsyncClient, key: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ABG_BENEFITS_API_KEY_FAILURE_LIMIT", "2")
    reset_benefits_settings_cache()
    wrong = key[: -3] + ("AAA" if not key.endswith("AAA") else "BBB")
    for _ in range(2):
        assert (await _post(http, f"grant_type=client_credentials&client_secret={wrong}")).status_code == 401
    braked = await _post(http, f"grant_type=client_credentials&client_secret={key}")
    assert braked.status_code == 429 and int(braked.headers["retry-after"]) > 0


# --- through GraphQL ------------------------------------------------------------------------------

TOKEN = "mutation($k: String!) { partnerToken(apiKey: $k) { accessToken tokenType expiresIn partnerId } }"
ISSUE = "mutation($id: ID!) { issuePartnerApiKey(partnerId: $id, label: \"pos\") { apiKey key { id prefix label active } } }"
REVOKE = "mutation($id: ID!) { revokePartnerApiKey(keyId: $id) { id active revokedBy } }"
KEYS = "query($id: ID!) { partner(id: $id) { apiKeys { id prefix active lastUsedAt } } }"
ROLES = ("operator", "customer_service", "partner", "other_partner", "member", "service", "anonymous")


@pytest.mark.parametrize("role", ROLES)
async def test_partner_token_answers_anyone_holding_the_key(database: Database, metro: PartnerView, key: str, role: str) -> None:
    answer = (await gql(database, TOKEN, roles_for(metro.id)[role], k=key)).ok["partnerToken"]
    assert (answer["tokenType"], answer["expiresIn"], answer["partnerId"]) == ("Bearer", 900, str(metro.id))
    refused = await gql(database, TOKEN, roles_for(metro.id)[role], k=key + "x")
    assert refused.codes == ["UNAUTHENTICATED"] and refused.errors[0]["message"] == "an API key reads abk_<prefix>_<secret>"


@pytest.mark.parametrize("role", ROLES)
async def test_keys_by_role(database: Database, metro: PartnerView, key: str, role: str) -> None:
    who = roles_for(metro.id)[role]
    issued = await gql(database, ISSUE, who, id=str(metro.id))
    expected_issue = {"operator": "ok", "anonymous": "UNAUTHENTICATED"}.get(role, "FORBIDDEN")
    assert (issued.codes[0] if issued.errors else "ok") == expected_issue
    if role == "operator":
        made = issued.ok["issuePartnerApiKey"]
        assert made["apiKey"].startswith(f"abk_{made['key']['prefix']}_") and made["key"]["label"] == "pos"
    listed = await gql(database, KEYS, who, id=str(metro.id))
    if role in ("operator", "customer_service", "partner", "service"):
        assert len(listed.ok["partner"]["apiKeys"]) == (2 if role == "operator" else 1)
    else:
        assert listed.codes == ["UNAUTHENTICATED" if role == "anonymous" else "FORBIDDEN"]
    key_id = (await service.keys_of(database, OPERATOR, [metro.id]))[0][-1].id  # type: ignore[index]
    revoked = await gql(database, REVOKE, who, id=str(key_id))
    expected_revoke = {"operator": "ok", "partner": "ok", "anonymous": "UNAUTHENTICATED"}.get(role, "FORBIDDEN")
    assert (revoked.codes[0] if revoked.errors else "ok") == expected_revoke
    if expected_revoke == "ok":
        assert revoked.ok["revokePartnerApiKey"]["active"] is False


async def test_a_token_minted_for_a_partner_is_refused_once_expired(http: httpx.AsyncClient, metro: PartnerView) -> None:
    import time
    from unittest.mock import patch

    with patch("shared.auth.tokens._now", return_value=time.time() - 3600):
        old = mint_token("partner", metro.id, ttl_seconds=900)
    response = await http.post("/graphql", json={"query": "{ myPartner { id } }"}, headers={"authorization": f"Bearer {old}"})
    assert response.status_code == 401
