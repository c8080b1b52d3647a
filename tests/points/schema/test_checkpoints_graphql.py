"""Ledger checkpoints over GraphQL: operators take one and verify against it; others are refused."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from services.points.config import reset_points_settings_cache
from services.points.schema import schema
from shared.auth.tokens import mint_token
from shared.federation import create_subgraph_app

OPERATOR = ("staff", "ops-1", ["operator"])
CS = ("staff", "cs-1", ["customer_service"])
TAKE = "mutation { takeLedgerCheckpoint { written checkpoint { number chains root previous } } }"
VERIFY = """{ verifyLedgerAgainstCheckpoint { ok checkpoints chains transactions latest { number }
    problems { reason checkpoint sequence firstSequence transactionId member { id } } } }"""


@pytest.fixture
async def http(db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[httpx.AsyncClient]:
    monkeypatch.setenv("ABG_POINTS_CHECKPOINT_DIR", str(tmp_path / "checkpoints"))
    reset_points_settings_cache()
    app = create_subgraph_app(service="points", schema=schema, routes=[])
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://points") as client:
            yield client
    reset_points_settings_cache()


async def _call(http: httpx.AsyncClient, query: str, who: tuple[str, str, list[str]]) -> dict:
    token = mint_token(who[0], who[1], roles=who[2])
    return (await http.post("/graphql", json={"query": query}, headers={"authorization": f"Bearer {token}"})).json()


async def test_operators_take_and_verify_checkpoints(http: httpx.AsyncClient, kit) -> None:  # noqa: ANN001
    member = uuid.uuid4()
    await kit.earn(member, await kit.partner(), 10)
    none_yet = (await _call(http, VERIFY, OPERATOR))["data"]["verifyLedgerAgainstCheckpoint"]
    assert not none_yet["ok"] and none_yet["latest"] is None

    taken = (await _call(http, TAKE, OPERATOR))["data"]["takeLedgerCheckpoint"]
    assert taken["written"] and taken["checkpoint"]["number"] == 1 and taken["checkpoint"]["chains"] == 1
    assert taken["checkpoint"]["previous"] == "0" * 64 and len(taken["checkpoint"]["root"]) == 64
    assert (await _call(http, TAKE, OPERATOR))["data"]["takeLedgerCheckpoint"]["written"] is False

    verified = (await _call(http, VERIFY, OPERATOR))["data"]["verifyLedgerAgainstCheckpoint"]
    assert verified == {"ok": True, "checkpoints": 1, "chains": 1, "transactions": 1, "latest": {"number": 1}, "problems": []}


async def test_only_operators(http: httpx.AsyncClient) -> None:
    for query in (TAKE, VERIFY):
        body = await _call(http, query, CS)
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
