"""The subgraph app factory: error policy, request ids, authentication, limits, health."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from unittest.mock import patch

import httpx
import pytest
import strawberry

from shared.auth.tokens import mint_token
from shared.errors import InsufficientPoints
from shared.federation import Info, build_schema, create_subgraph_app


@strawberry.type
class Query:
    @strawberry.field
    def hello(self, info: Info) -> str:
        principal = info.context.principal
        return f"hello {principal.kind.value} {principal.subject}"

    @strawberry.field
    def domain_failure(self) -> int:
        raise InsufficientPoints("not enough points", needed=5)

    @strawberry.field
    def crash(self) -> int:
        raise RuntimeError("database password is hunter2")

    @strawberry.field
    def nested(self) -> "Nested":
        return Nested()


@strawberry.type
class Nested:
    @strawberry.field
    def hello(self) -> str:
        return "deep"

    @strawberry.field
    def nested(self) -> "Nested":
        return Nested()


@pytest.fixture
async def client(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_subgraph_app(service="members", schema=build_schema(query=Query))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://subgraph") as client:
            yield client


async def test_domain_error_keeps_message_and_code(client: httpx.AsyncClient) -> None:
    body = (await client.post("/graphql", json={"query": "{ domainFailure }"})).json()
    (error,) = body["errors"]
    assert error["message"] == "not enough points"
    assert error["extensions"] == {"code": "INSUFFICIENT_POINTS", "needed": 5}


async def test_internal_error_is_masked_with_the_request_id_that_is_logged(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        response = await client.post("/graphql", json={"query": "{ crash }"}, headers={"x-request-id": "req-42"})
    (error,) = response.json()["errors"]
    assert "hunter2" not in response.text
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "requestId": "req-42"}
    assert response.headers["x-request-id"] == "req-42"
    logged = [r for r in caplog.records if "req-42" in r.getMessage()]
    assert logged and logged[0].exc_info is not None


async def test_a_request_id_is_made_when_none_or_a_bad_one_is_given(client: httpx.AsyncClient) -> None:
    first = await client.post("/graphql", json={"query": "{ hello }"})
    second = await client.post("/graphql", json={"query": "{ hello }"}, headers={"x-request-id": "bad id\twith junk"})
    assert len(first.headers["x-request-id"]) == 32
    assert second.headers["x-request-id"] != "bad id\twith junk"


async def test_validation_errors_are_not_masked(client: httpx.AsyncClient) -> None:
    (error,) = (await client.post("/graphql", json={"query": "{ nope }"})).json()["errors"]
    assert "nope" in error["message"]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_bearer_token_becomes_the_principal(client: httpx.AsyncClient) -> None:
    token = mint_token("staff", "ops-1", roles=["operator"])
    body = (await client.post("/graphql", json={"query": "{ hello }"}, headers={"authorization": f"Bearer {token}"})).json()
    assert body["data"]["hello"] == "hello staff ops-1"
    anonymous = (await client.post("/graphql", json={"query": "{ hello }"})).json()
    assert anonymous["data"]["hello"] == "hello anonymous None"


@pytest.mark.parametrize(
    "header",
    ["Bearer not-a-jwt", "Basic dXNlcjpwYXNz", "Bearer " + "x" * 20],
)
async def test_bad_tokens_are_rejected_before_graphql(client: httpx.AsyncClient, header: str) -> None:
    response = await client.post("/graphql", json={"query": "{ crash }"}, headers={"authorization": header})
    assert response.status_code == 401
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"


async def test_expired_token_is_rejected(client: httpx.AsyncClient) -> None:
    with patch("shared.auth.tokens._now", return_value=time.time() - 7200):  # minted two hours ago
        token = mint_token("member", "0190f0a0-0000-7000-8000-000000000001", ttl_seconds=3600)
    response = await client.post("/graphql", json={"query": "{ hello }"}, headers={"authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert "expired" in response.json()["errors"][0]["message"].lower()


async def test_oversize_body_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", content=b'{"query": "' + b" " * 1_100_000 + b'{ hello }"}',
                                  headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


async def test_depth_and_alias_limits(client: httpx.AsyncClient) -> None:
    deep = "{ " + "nested { " * 20 + "hello" + " }" * 20 + " }"
    (error,) = (await client.post("/graphql", json={"query": deep})).json()["errors"]
    assert "depth" in error["message"]
    aliases = "{ " + " ".join(f"a{i}: hello" for i in range(40)) + " }"
    body = (await client.post("/graphql", json={"query": aliases})).json()
    assert body.get("data") is None and "alias" in body["errors"][0]["message"].lower()


async def test_health_and_ready(client: httpx.AsyncClient) -> None:
    assert (await client.get("/health")).json() == {"status": "ok", "service": "members"}
    assert (await client.get("/ready")).json()["status"] == "ready"


async def test_queries_via_get(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", params={"query": "{ hello }"})
    assert response.json()["data"]["hello"].startswith("hello anonymous")


async def test_public_routes_see_their_own_authorization_header_and_routes_are_authenticated(database_url: str) -> None:
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def echo(request: Request) -> JSONResponse:
        principal = request.state.principal
        return JSONResponse({"kind": principal.kind.value, "authorization": request.headers.get("authorization")})

    app = create_subgraph_app(
        service="members",
        schema=build_schema(query=Query),
        routes=[Route("/private", echo, methods=["POST"])],
        public_routes=[Route("/token", echo, methods=["POST"])],
    )
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://subgraph") as client:
            basic = {"authorization": "Basic dXNlcjpwYXNz"}
            public = await client.post("/token", headers=basic)
            assert public.status_code == 200
            assert public.json() == {"kind": "anonymous", "authorization": "Basic dXNlcjpwYXNz"}
            assert (await client.post("/private", headers=basic)).status_code == 401
            token = mint_token("staff", "ops-1", roles=["operator"])
            signed_in = await client.post("/private", headers={"authorization": f"Bearer {token}"})
            assert signed_in.json()["kind"] == "staff"


async def test_a_repeated_query_is_validated_once(client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """The validation cache hits (the limits' rules are the same for every request), and an invalid
    query's errors are remembered as faithfully as a valid one's silence."""
    import shared.federation.documents as documents

    validated: list[str] = []
    validate = documents.validate

    def counting(schema, document, rules, **options):  # noqa: ANN001, ANN003, ANN202
        validated.append(document.loc.source.body)
        return validate(schema, document, rules, **options)

    monkeypatch.setattr(documents, "validate", counting)
    query, wrong = "query Repeated { hello nested { hello } }", "query Wrong { hello nested { nope } }"
    for _ in range(4):
        assert "errors" not in (await client.post("/graphql", json={"query": query})).json()
        answer = (await client.post("/graphql", json={"query": wrong})).json()
        assert answer["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert validated == [query, wrong]


async def test_too_many_tokens_and_syntax_errors_are_refused_each_time(client: httpx.AsyncClient) -> None:
    """The parse cache remembers documents, never refusals: the same bad text is refused again."""
    from shared.settings import get_settings

    huge = "{ " + " ".join("hello" for _ in range(get_settings().max_query_tokens + 10)) + " }"
    for _ in range(2):
        answer = (await client.post("/graphql", json={"query": huge})).json()
        assert answer.get("data") is None and "token" in answer["errors"][0]["message"].lower()
        broken = (await client.post("/graphql", json={"query": "{ hello "})).json()
        assert broken.get("data") is None and "Syntax Error" in broken["errors"][0]["message"]
    assert "errors" not in (await client.post("/graphql", json={"query": "{ hello }"})).json()
