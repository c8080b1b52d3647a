"""The explorer page: served offline-ready (own assets only), under a strict CSP, from a fixed file table."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from gateway.http.app import create_app
from gateway.http.explorer import explorer_routes
from gateway.http.settings import ServerSettings
from tests.gateway.kit.scenarios import Shop

ASSETS = Path(__file__).resolve().parents[2] / "gateway" / "http" / "explorer_assets"
BASE = "http://gateway.test"


def _client(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE)


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with _client(Starlette(routes=explorer_routes("/graphql"))) as client:
        yield client


def _asset_urls(page: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]+)"', page)


async def test_page_has_csp_nosniff_and_the_endpoint(client: httpx.AsyncClient) -> None:
    response = await client.get("/explorer")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["x-content-type-options"] == "nosniff"
    csp = response.headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert directives["connect-src"] == "'self'"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp and "http" not in csp
    assert 'data-endpoint="/graphql"' in response.text
    assert response.headers["cache-control"] == "no-cache"


async def test_page_has_no_inline_script_or_style(client: httpx.AsyncClient) -> None:
    page = (await client.get("/explorer")).text
    for script in re.findall(r"<script\b[^>]*>(.*?)</script>", page, re.DOTALL):
        assert script.strip() == ""  # external only: the CSP forbids inline code
    assert "<style" not in page
    assert not re.search(r"\sstyle=", page)
    assert not re.search(r"\son[a-z]+=", page)  # inline event handlers
    assert "{{" not in page  # every placeholder was filled


async def test_every_referenced_asset_is_served_with_its_type(client: httpx.AsyncClient) -> None:
    page = (await client.get("/explorer")).text
    urls = [url for url in _asset_urls(page) if not url.startswith("data:")]
    assert sorted(url.split("?")[0] for url in urls) == [
        "/explorer/assets/explorer.css",
        "/explorer/assets/explorer.js",
    ]
    expected = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
    for url in urls:
        response = await client.get(url)
        assert response.status_code == 200, url
        assert response.headers["content-type"] == expected[Path(url.split("?")[0]).suffix]
        assert response.headers["x-content-type-options"] == "nosniff"
        # the page's URLs carry the content hash, so they may be cached for good
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert response.content == (ASSETS / Path(url.split("?")[0]).name).read_bytes()


async def test_unversioned_asset_is_revalidated_with_an_etag(client: httpx.AsyncClient) -> None:
    first = await client.get("/explorer/assets/explorer.js")
    assert first.status_code == 200
    assert first.headers["cache-control"] == "no-cache"
    again = await client.get("/explorer/assets/explorer.js", headers={"if-none-match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    stale = await client.get("/explorer/assets/explorer.js", headers={"if-none-match": '"0000"'})
    assert stale.status_code == 200


async def test_nothing_refers_to_another_origin(client: httpx.AsyncClient) -> None:
    page = (await client.get("/explorer")).text
    bodies = {"html": page}
    for url in _asset_urls(page):
        if not url.startswith("data:"):
            bodies[url] = (await client.get(url)).text
    for name, body in bodies.items():
        assert not re.search(r"https?://", body), f"{name} refers to another origin"
        assert not re.search(r"(?:src|href)=\"//", body), f"{name} uses a protocol-relative URL"
        assert "@import" not in body and "url(" not in body, f"{name} loads further resources"


@pytest.mark.parametrize(
    "path",
    [
        "/explorer/assets/nope.js",
        "/explorer/assets/explorer.html",  # the template is not an asset
        "/explorer/assets/",
        "/explorer/assets/..%2Fexplorer.py",
        "/explorer/assets/..%2F..%2Fexplorer.py",
        "/explorer/assets/%2e%2e%2fexplorer.py",
        "/explorer/assets/..%252Fexplorer.py",
        "/explorer/assets/..%5Cexplorer.py",
        "/explorer/assets/explorer.js%00.py",
        "/explorer/assets/%2Fetc%2Fpasswd",
        "/explorer/assets/.%2Fexplorer.js",
    ],
)
async def test_unknown_assets_and_traversal_are_404(client: httpx.AsyncClient, path: str) -> None:
    # a raw target, so httpx does not normalise the dots or the escapes away before sending
    response = await client.request("GET", httpx.URL(BASE, raw_path=path.encode()))
    assert response.status_code == 404
    assert b"explorer_routes" not in response.content  # no source file leaked


async def test_only_get(client: httpx.AsyncClient) -> None:
    assert (await client.post("/explorer")).status_code == 405
    assert (await client.head("/explorer")).status_code == 200


async def test_custom_paths_are_passed_to_the_page() -> None:
    app = Starlette(routes=explorer_routes("/api/graph&ql", explorer_path="/tools/explore/"))
    async with _client(app) as client:
        page = (await client.get("/tools/explore")).text
        assert 'data-endpoint="/api/graph&amp;ql"' in page  # attribute-escaped
        for url in _asset_urls(page):
            if not url.startswith("data:"):
                assert url.startswith("/tools/explore/assets/")
                assert (await client.get(url)).status_code == 200


@pytest.mark.parametrize(
    ("graphql_path", "explorer_path"),
    [
        ("https://evil.test/graphql", "/explorer"),
        ("/graphql", "explorer"),
        ("/graphql", "/"),
        ("/graphql", "/graphql"),
        ("//evil.test", "/explorer"),
    ],
)
def test_bad_paths_are_refused(graphql_path: str, explorer_path: str) -> None:
    with pytest.raises(ValueError):
        explorer_routes(graphql_path, explorer_path)


def _introspection_query() -> str:
    source = (ASSETS / "explorer.js").read_text()
    match = re.search(r"const INTROSPECTION_QUERY = `([^`]*)`;", source)
    assert match, "explorer.js no longer defines INTROSPECTION_QUERY as a plain template string"
    return match.group(1)


async def _gateway_with_explorer(shop: Shop, settings: ServerSettings) -> httpx.AsyncClient:
    app = create_app(shop.gateway(), settings)
    app.router.routes.extend(explorer_routes(settings.graphql_path))
    return _client(app)


async def test_the_explorers_introspection_query_works_against_the_gateway(shop: Shop) -> None:
    async with await _gateway_with_explorer(shop, ServerSettings()) as client:
        response = await client.post(
            "/graphql",
            json={"query": _introspection_query(), "operationName": "ExplorerIntrospection"},
            headers={"accept": "application/graphql-response+json, application/json;q=0.9"},
        )
        page = await client.get("/explorer")
    assert response.status_code == 200
    body = response.json()
    assert "errors" not in body
    schema = body["data"]["__schema"]
    assert schema["queryType"]["name"] == "Query"
    types = {t["name"]: t for t in schema["types"]}
    me = next(f for f in types["Query"]["fields"] if f["name"] == "me")
    assert me["type"]["name"] == "User"
    assert page.status_code == 200 and page.headers["x-request-id"]  # the gateway's middleware applies


async def test_disabled_introspection_is_reported_with_the_code_the_page_looks_for(shop: Shop) -> None:
    async with await _gateway_with_explorer(shop, ServerSettings(introspection=False)) as client:
        response = await client.post("/graphql", json={"query": _introspection_query()})
    assert response.json()["errors"][0]["extensions"]["code"] == "INTROSPECTION_DISABLED"
    assert "INTROSPECTION_DISABLED" in (ASSETS / "explorer.js").read_text()


def _node() -> str | None:
    local = Path(sys.executable).parent / "node"
    return str(local) if local.exists() else shutil.which("node")


def test_explorer_js_parses() -> None:
    node = _node()
    if node is None:
        pytest.skip("node is not installed")
    result = subprocess.run(
        [node, "--check", str(ASSETS / "explorer.js")], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr


async def test_the_gateway_app_serves_the_explorer_unless_switched_off(shop: Shop) -> None:
    async with _client(create_app(shop.gateway(), ServerSettings(graphql_path="/api"))) as client:
        page = await client.get("/explorer")
        assert page.status_code == 200 and 'data-endpoint="/api"' in page.text
        for url in _asset_urls(page.text):
            if url.startswith("/explorer/assets/"):
                assert (await client.get(url)).status_code == 200
    async with _client(create_app(shop.gateway(), ServerSettings(explorer=False))) as client:
        assert (await client.get("/explorer")).status_code == 404
