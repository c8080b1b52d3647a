"""Trusted documents: manifests, ids resolved, unknown documents refused before any subgraph is called."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import orjson
import pytest

from gateway.cli import main
from gateway.http.app import create_app
from gateway.http.settings import ServerSettings
from gateway.http.trusted import TrustedDocuments, TrustedDocumentsError, build_manifest, sha256_of
from tests.gateway.kit.scenarios import Shop

ME = "query Me { me { name } }"
USER = "query User($id: ID!) { user(id: $id) { name } }"
UNKNOWN = "{ users { name } }"


def manifest_file(tmp_path: Path, documents: list[str]) -> Path:
    path = tmp_path / "trusted.json"
    path.write_text(json.dumps({sha256_of(text): text for text in documents}))
    return path


async def client_for(shop: Shop, tmp_path: Path, mode: str) -> httpx.AsyncClient:
    settings = ServerSettings(trusted_documents=str(manifest_file(tmp_path, [ME, USER])), trusted_documents_mode=mode)
    app = create_app(shop.gateway(), settings)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway.test")


@pytest.fixture
async def enforcing(shop: Shop, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with await client_for(shop, tmp_path, "enforce") as client:
        yield client


async def test_ids_run_their_document(shop: Shop, enforcing: httpx.AsyncClient) -> None:
    by_document_id = await enforcing.post("/graphql", json={"documentId": sha256_of(ME)})
    assert by_document_id.json() == {"data": {"me": {"name": "Ada Lovelace"}}}
    apollo_form = await enforcing.post(
        "/graphql",
        json={"variables": {"id": "u3"}, "extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha256_of(USER)}}},
    )
    assert apollo_form.json() == {"data": {"user": {"name": "Linus Torvalds"}}}
    by_get = await enforcing.get(
        "/graphql",
        params={
            "variables": '{"id": "u3"}',
            "extensions": json.dumps({"persistedQuery": {"version": 1, "sha256Hash": sha256_of(USER).upper()}}),
        },
    )
    assert by_get.json() == apollo_form.json()


async def test_enforce_refuses_unknown_documents_before_any_subgraph(shop: Shop, enforcing: httpx.AsyncClient) -> None:
    shop.reset()
    refused = await enforcing.post("/graphql", json={"query": UNKNOWN})
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_IN_LIST"
    unknown_id = await enforcing.post("/graphql", json={"documentId": "0" * 64})
    assert unknown_id.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    assert shop.requests() == {}
    known_text = await enforcing.post("/graphql", json={"query": ME})  # a shipped operation sent in full
    assert known_text.json() == {"data": {"me": {"name": "Ada Lovelace"}}}


async def test_allow_mode_resolves_ids_and_still_runs_other_documents(shop: Shop, tmp_path: Path) -> None:
    async with await client_for(shop, tmp_path, "allow") as client:
        assert (await client.post("/graphql", json={"documentId": sha256_of(ME)})).json()["data"]["me"]
        other = await client.post("/graphql", json={"query": UNKNOWN})
        assert "errors" not in other.json() and other.json()["data"]["users"]


@pytest.mark.parametrize(
    "payload",
    [
        {"query": UNKNOWN, "documentId": sha256_of(ME)},  # the text and the id disagree
        {"extensions": {"persistedQuery": {"version": 2, "sha256Hash": sha256_of(ME)}}},
        {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "not-hex"}}},
        {"extensions": {"persistedQuery": "abc"}},
        {"documentId": 42},
    ],
)
async def test_malformed_requests_are_bad_requests(shop: Shop, enforcing: httpx.AsyncClient, payload: dict) -> None:
    shop.reset()
    response = await enforcing.post("/graphql", json=payload)
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert shop.requests() == {}


async def test_without_a_manifest_ids_are_refused_clearly(shop: Shop) -> None:
    app = create_app(shop.gateway(), ServerSettings())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://g.test") as client:
        response = await client.post("/graphql", json={"documentId": sha256_of(ME)})
        assert response.status_code == 400
        assert response.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_SUPPORTED"


def test_apollo_manifest_format_loads() -> None:
    store = TrustedDocuments.from_manifest(
        {
            "format": "apollo-persisted-query-manifest",
            "version": 1,
            "operations": [
                {"id": sha256_of(ME), "name": "Me", "type": "query", "body": ME},
                {"id": "user-by-id", "name": "User", "type": "query", "body": USER},
            ],
        }
    )
    assert store.lookup(sha256_of(ME)) == ME and store.lookup("user-by-id") == USER
    assert store.knows_text(USER) and not store.knows_text(UNKNOWN)


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        ({sha256_of(ME): USER}, "is not the sha256 of its document"),
        ({"a": ""}, "empty"),
        ({"a": 3}, "not a string"),
        ({}, "no documents"),
        ([ME], "expected an object"),
        ({"format": "apollo-persisted-query-manifest", "version": 2, "operations": []}, "version 1"),
        ({"format": "apollo-persisted-query-manifest", "version": 1, "operations": [{"body": ME}]}, "no id"),
        ({"x": ME, "X": ME, sha256_of(ME).upper(): ME, sha256_of(ME): USER}, "not the sha256"),
    ],
)
def test_unusable_manifests_are_refused(manifest: object, message: str) -> None:
    with pytest.raises(TrustedDocumentsError, match=message):
        TrustedDocuments.from_manifest(manifest)


def test_unreadable_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(TrustedDocumentsError, match="cannot read"):
        TrustedDocuments.from_file(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{nope")
    with pytest.raises(TrustedDocumentsError, match="not JSON"):
        TrustedDocuments.from_file(tmp_path / "bad.json")


def test_a_large_manifest_loads(tmp_path: Path) -> None:
    documents = [f"query Q{n} {{ me {{ name }} }}" for n in range(10_000)]
    store = TrustedDocuments.from_file(manifest_file(tmp_path, documents))
    assert len(store) == 10_000 and store.lookup(sha256_of(documents[1234])) == documents[1234]


def test_manifest_command_hashes_operation_files(tmp_path: Path) -> None:
    (tmp_path / "me.graphql").write_text(ME)
    (tmp_path / "user.graphql").write_text(USER)
    out = tmp_path / "manifest.json"
    assert main(["trusted-documents", str(tmp_path / "me.graphql"), str(tmp_path / "user.graphql"), "-o", str(out)]) == 0
    written = orjson.loads(out.read_bytes())
    assert written == build_manifest([tmp_path / "me.graphql", tmp_path / "user.graphql"])
    assert written[sha256_of(USER)] == USER
    assert TrustedDocuments.from_file(out).lookup(sha256_of(ME)) == ME
    (tmp_path / "empty.graphql").write_text("  ")
    assert main(["trusted-documents", str(tmp_path / "empty.graphql")]) == 2


def test_serve_refuses_a_bad_manifest(tmp_path: Path) -> None:
    from tests.gateway.kit.scenarios import FIXTURES

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({sha256_of(ME): USER}))
    supergraph = str(FIXTURES / "shop" / "supergraph.graphql")
    with pytest.raises(SystemExit, match="cannot use the trusted documents"):
        main(["serve", "--supergraph", supergraph, "--trusted-documents", str(bad), "--port", "1"])
