"""What a subgraph discloses about its schema: introspection, `_service { sdl }`, suggestions.

Off by default in production (for everyone but services, for `_service`), on in development and
test, and each can be turned on or off with a setting.
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import strawberry

from service_keys_env import signing_as
from shared.auth.tokens import mint_token
from shared.federation import build_schema, create_subgraph_app
from shared.federation.disclosure import root_fields
from shared.settings import reset_settings_cache
from graphql import parse

PRODUCTION = {
    "ABG_ENV": "production",
    "ABG_JWT_SECRET": "a-real-secret-for-this-test-0123456789abcdef",
    "ABG_MASTER_KEY": "MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE=",
    "ABG_BLIND_INDEX_KEY": "YWJjZGVmYWJjZGVmYWJjZGVmYWJjZGVmYWJjZGVmMDE=",
    **signing_as("gateway"),
}


@strawberry.federation.type(keys=["id"])
class Thing:
    id: strawberry.ID
    colour: str

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> "Thing":  # noqa: A002 - federation's name
        return Thing(id=id, colour="teal")


@strawberry.enum
class Shade(enum.Enum):
    LIGHT = "light"
    DARK = "dark"


@strawberry.type
class Query:
    @strawberry.field
    def thing(self) -> Thing:
        return Thing(id=strawberry.ID("1"), colour="teal")

    @strawberry.field
    def shade(self, shade: Shade) -> str:
        return shade.value


INTROSPECTION = "{ __schema { queryType { name } } }"
TYPE = '{ __type(name: "Thing") { name } }'
SDL = "{ _service { sdl } }"
ENTITIES = '{ _entities(representations: [{__typename: "Thing", id: "7"}]) { ... on Thing { colour } } }'
TYPO = "{ thing { colur } }"


def _environment(monkeypatch: pytest.MonkeyPatch, values: dict[str, str]) -> None:
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    reset_settings_cache()


@pytest.fixture
def settings_restored() -> Iterator[None]:
    yield
    reset_settings_cache()


async def _client(environ: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[httpx.AsyncClient]:
    _environment(monkeypatch, environ)
    app = create_subgraph_app(service="members", schema=build_schema(query=Query, types=[Thing]))
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://subgraph") as client:
            yield client


@pytest.fixture
async def production(database_url: str, monkeypatch: pytest.MonkeyPatch, settings_restored: None) -> AsyncIterator[httpx.AsyncClient]:
    async for client in _client(PRODUCTION, monkeypatch):
        yield client


@pytest.fixture
async def development(database_url: str, monkeypatch: pytest.MonkeyPatch, settings_restored: None) -> AsyncIterator[httpx.AsyncClient]:
    async for client in _client({"ABG_ENV": "development"}, monkeypatch):
        yield client


def _bearer(kind: str, subject: str, roles: tuple[str, ...] = ()) -> dict[str, str]:
    return {"authorization": f"Bearer {mint_token(kind, subject, list(roles))}"}


MEMBER = ("member", "8d5c6a52-4a4e-4c9b-9d8e-2f0e0b7f3a11")
STAFF = ("staff", "ops-1", ("operator",))


async def _ask(client: httpx.AsyncClient, query: str, headers: dict[str, str] | None = None) -> dict:
    return (await client.post("/graphql", json={"query": query}, headers=headers or {})).json()


async def test_production_refuses_introspection_to_everyone(production: httpx.AsyncClient) -> None:
    for headers in ({}, _bearer(*MEMBER), _bearer(*STAFF), _bearer("service", "gateway")):
        for query in (INTROSPECTION, TYPE):
            body = await _ask(production, query, headers)
            assert body.get("data") is None, body
            error = body["errors"][0]
            assert "introspection" in error["message"].lower(), body
            assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_production_gives_the_sdl_only_to_services(production: httpx.AsyncClient) -> None:
    for headers in ({}, _bearer(*MEMBER), _bearer(*STAFF)):
        body = await _ask(production, SDL, headers)
        assert body.get("data") is None and "sdl" not in str(body.get("data")), body
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # hidden in a fragment at the root, too
    body = await _ask(production, "query { ...F } fragment F on Query { _service { sdl } }")
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    body = await _ask(production, SDL, _bearer("service", "gateway"))
    assert "type Thing" in body["data"]["_service"]["sdl"]


async def test_entities_still_answer_the_callers_the_gateway_forwards(production: httpx.AsyncClient) -> None:
    # The gateway sends _entities with the client's own token; each reference resolver decides.
    for headers in ({}, _bearer(*MEMBER), _bearer("service", "gateway")):
        body = await _ask(production, ENTITIES, headers)
        assert body == {"data": {"_entities": [{"colour": "teal"}]}}


async def test_production_gives_no_suggestions(production: httpx.AsyncClient) -> None:
    body = await _ask(production, TYPO)
    (error,) = body["errors"]
    assert "colur" in error["message"] and "Did you mean" not in error["message"]
    # a second time through the validation cache: the same answer
    assert await _ask(production, TYPO) == body


async def test_development_keeps_introspection_sdl_and_suggestions(development: httpx.AsyncClient) -> None:
    assert (await _ask(development, INTROSPECTION))["data"] == {"__schema": {"queryType": {"name": "Query"}}}
    assert "type Thing" in (await _ask(development, SDL))["data"]["_service"]["sdl"]
    assert "Did you mean 'colour'?" in (await _ask(development, TYPO))["errors"][0]["message"]


async def test_settings_turn_each_back_on_in_production(
    database_url: str, monkeypatch: pytest.MonkeyPatch, settings_restored: None
) -> None:
    environ = {**PRODUCTION, "ABG_INTROSPECTION": "true", "ABG_SUGGESTIONS": "true"}
    async for client in _client(environ, monkeypatch):
        assert (await _ask(client, TYPE))["data"] == {"__type": {"name": "Thing"}}
        assert "type Thing" in (await _ask(client, SDL))["data"]["_service"]["sdl"]
        assert "Did you mean" in (await _ask(client, TYPO))["errors"][0]["message"]


async def test_settings_turn_each_off_in_development(
    database_url: str, monkeypatch: pytest.MonkeyPatch, settings_restored: None
) -> None:
    environ = {"ABG_ENV": "development", "ABG_INTROSPECTION": "false", "ABG_SUGGESTIONS": "false"}
    async for client in _client(environ, monkeypatch):
        assert (await _ask(client, INTROSPECTION))["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        assert "Did you mean" not in (await _ask(client, TYPO))["errors"][0]["message"]


async def test_variable_errors_give_no_suggestions_in_production(
    production: httpx.AsyncClient, development: httpx.AsyncClient
) -> None:
    # coerced while executing, not validating: a variable's enum value
    request = {"query": "query Q($s: Shade!) { shade(shade: $s) }", "variables": {"s": "LIGT"}}
    shown = (await development.post("/graphql", json=request)).json()
    assert "Did you mean the enum value 'LIGHT'?" in shown["errors"][0]["message"]
    hidden = (await production.post("/graphql", json=request)).json()
    assert "LIGT" in hidden["errors"][0]["message"] and "Did you mean" not in str(hidden)


def test_root_fields_follow_root_fragments_and_the_named_operation() -> None:
    document = parse("query A { a ...F } query B { _service { sdl } } fragment F on Query { ... { b } }")
    assert root_fields(document, "A") == {"a", "b"}
    assert root_fields(document, "B") == {"_service"}


def test_in_process_calls_still_read_the_sdl_in_production(monkeypatch: pytest.MonkeyPatch, settings_restored: None) -> None:
    # `abg sdl` executes without a request context: nobody from the network is asking
    _environment(monkeypatch, PRODUCTION)
    schema = build_schema(query=Query, types=[Thing])
    assert "type Thing" in schema.execute_sync(SDL).data["_service"]["sdl"]
    assert schema.execute_sync(INTROSPECTION).errors  # introspection stays off all the same


async def test_production_rules_still_let_the_validation_cache_hit(
    production: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shared.federation.documents as documents

    validated: list[str] = []
    validate = documents.validate

    def counting(schema, document, rules, **options):  # noqa: ANN001, ANN003, ANN202
        validated.append(document.loc.source.body)
        return validate(schema, document, rules, **options)

    monkeypatch.setattr(documents, "validate", counting)
    for _ in range(3):
        assert (await _ask(production, "{ thing { colour } }"))["data"] == {"thing": {"colour": "teal"}}
        assert "Did you mean" not in str(await _ask(production, TYPO))
        assert (await _ask(production, SDL))["errors"][0]["extensions"]["code"] == "FORBIDDEN"  # the guard is per caller
    assert sorted(validated) == sorted(["{ thing { colour } }", TYPO, SDL])
