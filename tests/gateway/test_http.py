"""The gateway's HTTP surface: POST/GET, health, limits, introspection switch, CORS, request ids."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from gateway.execution.pipeline import GraphQLRequest
from gateway.http.app import create_app
from gateway.http.limits import OperationLimits
from gateway.http.settings import ServerSettings
from tests.gateway.kit.scenarios import Shop


async def _client(shop: Shop, settings: ServerSettings | None = None, **kwargs: Any) -> httpx.AsyncClient:
    app = create_app(shop.gateway(), settings or ServerSettings(), **kwargs)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway.test")


@pytest.fixture
async def client(shop: Shop) -> AsyncIterator[httpx.AsyncClient]:
    async with await _client(shop) as client:
        yield client


async def test_post_json(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": "query Me { me { name } }", "operationName": "Me"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {"data": {"me": {"name": "Ada Lovelace"}}}


async def test_get_query_with_variables(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/graphql",
        params={"query": "query ($id: ID!) { user(id: $id) { name } }", "variables": '{"id": "u3"}'},
    )
    assert response.status_code == 200
    assert response.json() == {"data": {"user": {"name": "Linus Torvalds"}}}


async def test_get_refuses_mutations(shop: Shop, client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", params={"query": 'mutation { restock(upc: "p1", quantity: 1) }'})
    assert response.status_code == 405
    assert response.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"
    assert shop.requests() == {}


async def test_health(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


async def test_bad_requests(client: httpx.AsyncClient) -> None:
    not_json = await client.post("/graphql", content=b"{nope", headers={"content-type": "application/json"})
    assert not_json.status_code == 400
    assert not_json.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    wrong_type = await client.post("/graphql", content=b"{ me { name } }", headers={"content-type": "text/plain"})
    assert wrong_type.status_code == 415
    no_query = await client.post("/graphql", json={"variables": {}})
    assert no_query.status_code == 400
    batch = await client.post("/graphql", json=[{"query": "{ me { name } }"}])
    assert batch.status_code == 400


async def test_validation_errors_status_depends_on_the_accepted_media_type(client: httpx.AsyncClient) -> None:
    legacy = await client.post("/graphql", json={"query": "{ me { nope } }"})
    assert legacy.status_code == 200  # application/json: errors travel with 200
    modern = await client.post(
        "/graphql", json={"query": "{ me { nope } }"}, headers={"accept": "application/graphql-response+json"}
    )
    assert modern.status_code == 400
    assert modern.headers["content-type"].startswith("application/graphql-response+json")
    assert modern.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_body_size_limit(shop: Shop) -> None:
    async with await _client(shop, ServerSettings(max_body_bytes=100)) as client:
        small = await client.post("/graphql", json={"query": "{ me { name } }"})
        assert small.status_code == 200
        big = await client.post("/graphql", json={"query": "{ me { name } }", "variables": {"pad": "x" * 200}})
    assert big.status_code == 413
    assert big.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


@pytest.mark.parametrize(
    ("limits", "query", "code"),
    [
        (OperationLimits(max_depth=3), "{ me { reviews { product { name } } } }", "MAX_DEPTH_EXCEEDED"),
        (OperationLimits(max_aliases=1), "{ a: me { name } b: me { name } }", "MAX_ALIASES_EXCEEDED"),
        (OperationLimits(max_cost=20), "{ products(first: 50) { name upc } }", "MAX_COST_EXCEEDED"),
    ],
)
async def test_operation_limits(shop: Shop, limits: OperationLimits, query: str, code: str) -> None:
    async with await _client(shop, ServerSettings(limits=limits)) as client:
        response = await client.post("/graphql", json={"query": query})
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == code
    assert "exceeds the limit" in error["message"]
    assert shop.requests() == {}  # refused before any subgraph was asked


async def test_token_limit_stops_parsing_early(shop: Shop) -> None:
    async with await _client(shop, ServerSettings(limits=OperationLimits(max_tokens=50))) as client:
        response = await client.post("/graphql", json={"query": "{ " + "me { name } " * 20 + "}"})
    assert "more than 50 tokens" in response.json()["errors"][0]["message"]
    assert shop.requests() == {}


async def test_limits_count_fragments_and_let_normal_queries_through(shop: Shop) -> None:
    query = "{ me { ...A } } fragment A on User { reviews { ...B } } fragment B on Review { product { name } }"
    async with await _client(shop, ServerSettings(limits=OperationLimits(max_depth=3))) as client:
        deep = await client.post("/graphql", json={"query": query})
        assert deep.json()["errors"][0]["extensions"]["code"] == "MAX_DEPTH_EXCEEDED"
        shallow = await client.post("/graphql", json={"query": "{ me { reviews { body } } }"})
    assert shallow.json() == {"data": {"me": {"reviews": [{"body": "Sturdy"}, {"body": "Too big"}]}}}


async def test_introspection_can_be_switched_off(shop: Shop) -> None:
    async with await _client(shop, ServerSettings(introspection=False)) as client:
        refused = await client.post("/graphql", json={"query": "{ __schema { queryType { name } } }"})
        typename = await client.post("/graphql", json={"query": "{ __typename }"})
    assert refused.json()["errors"][0]["extensions"]["code"] == "INTROSPECTION_DISABLED"
    assert typename.json() == {"data": {"__typename": "Query"}}


async def test_cors(shop: Shop) -> None:
    async with await _client(shop, ServerSettings(cors_origins=("https://app.example.test",))) as client:
        preflight = await client.options(
            "/graphql",
            headers={
                "origin": "https://app.example.test",
                "access-control-request-method": "POST",
                "access-control-request-headers": "content-type",
            },
        )
        other = await client.post(
            "/graphql", json={"query": "{ __typename }"}, headers={"origin": "https://evil.example.test"}
        )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "https://app.example.test"
    assert "access-control-allow-origin" not in other.headers


async def test_no_cors_headers_unless_configured(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": "{ __typename }"}, headers={"origin": "https://x.test"})
    assert "access-control-allow-origin" not in response.headers


async def test_request_ids_are_echoed_made_up_and_forwarded(shop: Shop, client: httpx.AsyncClient) -> None:
    given = await client.post("/graphql", json={"query": "{ me { name } }"}, headers={"x-request-id": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    assert shop.subgraphs["accounts"].requests[-1]["headers"]["x-request-id"] == "abc-123"
    made_up = await client.post("/graphql", json={"query": "{ me { name } }"}, headers={"x-request-id": "bad id!"})
    assert made_up.headers["x-request-id"] != "bad id!" and len(made_up.headers["x-request-id"]) == 32


async def test_authorization_header_is_forwarded_to_subgraphs(shop: Shop, client: httpx.AsyncClient) -> None:
    await client.post("/graphql", json={"query": "{ me { name } }"}, headers={"authorization": "Bearer t0ken"})
    headers = shop.subgraphs["accounts"].requests[-1]["headers"]
    assert headers["authorization"] == "Bearer t0ken"


async def test_device_id_is_forwarded_and_client_ip_is_the_clients_address(shop: Shop, client: httpx.AsyncClient) -> None:
    await client.post("/graphql", json={"query": "{ me { name } }"}, headers={"x-device-id": "phone-42"})
    headers = shop.subgraphs["accounts"].requests[-1]["headers"]
    assert headers["x-device-id"] == "phone-42"
    assert headers["x-client-ip"] == "127.0.0.1"  # httpx's ASGI transport is the client 127.0.0.1


async def test_a_client_cannot_choose_its_own_client_ip(shop: Shop) -> None:
    # Not even when x-client-ip is configured as a forwarded header.
    settings = ServerSettings(forward_headers=("authorization", "x-device-id", "x-client-ip"))
    transport = httpx.ASGITransport(app=create_app(shop.gateway(), settings), client=("203.0.113.7", 5555))
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
        await client.post("/graphql", json={"query": "{ me { name } }"}, headers={"x-client-ip": "10.0.0.1"})
    assert shop.subgraphs["accounts"].requests[-1]["headers"]["x-client-ip"] == "203.0.113.7"


async def test_headers_not_configured_are_not_forwarded(shop: Shop, client: httpx.AsyncClient) -> None:
    await client.post("/graphql", json={"query": "{ me { name } }"}, headers={"cookie": "session=1", "x-other": "y"})
    headers = shop.subgraphs["accounts"].requests[-1]["headers"]
    assert "cookie" not in headers and "x-other" not in headers


async def test_hooks_can_answer_before_execution(shop: Shop) -> None:
    async def require_token(request: Request, graphql_request: GraphQLRequest) -> Response | None:
        if request.headers.get("authorization") != "Bearer ok":
            return JSONResponse({"errors": [{"message": "unauthenticated"}]}, status_code=401)
        return None

    async with await _client(shop, hooks=[require_token]) as client:
        refused = await client.post("/graphql", json={"query": "{ me { name } }"})
        allowed = await client.post("/graphql", json={"query": "{ me { name } }"}, headers={"authorization": "Bearer ok"})
    assert refused.status_code == 401
    assert allowed.json() == {"data": {"me": {"name": "Ada Lovelace"}}}
    assert len(shop.subgraphs["accounts"].requests) == 1  # only the allowed request reached it


async def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ABG_GATEWAY_PORT", "4999")
    monkeypatch.setenv("ABG_GATEWAY_MAX_DEPTH", "off")
    monkeypatch.setenv("ABG_GATEWAY_MAX_ALIASES", "7")
    monkeypatch.setenv("ABG_GATEWAY_INTROSPECTION", "false")
    monkeypatch.setenv("ABG_GATEWAY_CORS_ORIGINS", "https://a.test, https://b.test")
    settings = ServerSettings.from_env()
    assert settings.port == 4999
    assert settings.limits.max_depth is None and settings.limits.max_aliases == 7
    assert settings.introspection is False
    assert settings.cors_origins == ("https://a.test", "https://b.test")
