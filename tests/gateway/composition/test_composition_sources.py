"""Getting subgraph SDLs: `{ _service { sdl } }` over HTTP (as a gateway does at start-up) and files."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from composition_support import directives_on
from strawberry_subgraphs import members_schema, points_schema

from gateway.composition import SubgraphFetchError, compose_from_files, compose_from_urls, fetch_sources
from gateway.composition.sources import SERVICE_SDL_QUERY

SCHEMAS = {"members.test": members_schema, "points.test": points_schema}


def _subgraph_transport(seen: list[httpx.Request]) -> httpx.MockTransport:
    """Answers GraphQL POSTs the way the strawberry subgraphs would."""

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        body = json.loads(request.content)
        result = SCHEMAS[request.url.host].execute_sync(body["query"])
        return httpx.Response(200, json={"data": result.data})

    return httpx.MockTransport(handler)


async def test_compose_from_urls_fetches_each_service_sdl() -> None:
    seen: list[httpx.Request] = []
    async with httpx.AsyncClient(transport=_subgraph_transport(seen)) as client:
        result = await compose_from_urls(
            {"members": "http://members.test/graphql", "points": "http://points.test/graphql"},
            client=client,
            headers={"authorization": "Bearer service-token"},
        )
    assert result.ok, result.errors
    assert sorted(r.url.host for r in seen) == ["members.test", "points.test"]
    assert all(json.loads(r.content)["query"] == SERVICE_SDL_QUERY for r in seen)
    assert all(r.headers["authorization"] == "Bearer service-token" for r in seen)
    # The URL the SDL came from is where the gateway will send queries.
    assert 'MEMBERS @join__graph(name: "members", url: "http://members.test/graphql")' in result.supergraph_sdl
    assert directives_on(result.supergraph_sdl, "Member", "greeting") == [
        '@join__field(graph: POINTS, requires: "displayName")'
    ]


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        (httpx.Response(503, text="overloaded"), "HTTP 503"),
        (httpx.Response(200, text="<html>"), "not JSON"),
        (
            httpx.Response(200, json={"errors": [{"message": 'Cannot query field "_service"'}]}),
            'Cannot query field "_service"',
        ),
        (httpx.Response(200, json={"data": {"hello": 1}}), "is it a federation subgraph"),
    ],
)
async def test_fetch_errors_name_the_subgraph_and_the_cause(response: httpx.Response, expected: str) -> None:
    transport = httpx.MockTransport(lambda request: response)
    async with httpx.AsyncClient(transport=transport) as client:
        with pytest.raises(SubgraphFetchError) as info:
            await fetch_sources({"members": "http://members.test/graphql"}, client=client)
    assert 'subgraph "members" at http://members.test/graphql' in str(info.value)
    assert expected in str(info.value)


async def test_unreachable_subgraph_is_reported() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(refuse)) as client:
        with pytest.raises(SubgraphFetchError, match='subgraph "points" at http://points.test/graphql: ConnectError'):
            await fetch_sources({"points": "http://points.test/graphql"}, client=client)


def test_compose_from_files(tmp_path: Path) -> None:
    from strawberry_subgraphs import service_sdl

    (tmp_path / "members.graphql").write_text(service_sdl(members_schema))
    (tmp_path / "points.graphql").write_text(service_sdl(points_schema))
    result = compose_from_files(
        {
            "members": (tmp_path / "members.graphql", "http://members:8000/graphql"),
            "points": (str(tmp_path / "points.graphql"), "http://points:8000/graphql"),
        }
    )
    assert result.ok
    assert 'POINTS @join__graph(name: "points", url: "http://points:8000/graphql")' in result.supergraph_sdl


def test_missing_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(SubgraphFetchError, match='subgraph "members": cannot read'):
        compose_from_files({"members": (tmp_path / "nope.graphql", "http://members")})
