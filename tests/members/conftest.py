"""Fixtures for the members tests: the service's database, principals, and the app over HTTP."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import asyncpg
import httpx
import pytest

from shared.auth.principals import Principal, PrincipalKind
from shared.auth.tokens import mint_token
from shared.database import Database, get_database
from shared.database.urls import to_libpq_url
from shared.settings import reset_settings_cache
from shared.timeutil import utcnow

from services.members.config import reset_members_settings_cache
from services.members.profiles import service as profiles
from services.members.profiles.answers import MemberView
from services.members.tiers import service as tiers
from services.members.tiers.answers import GrowthInput, GrowthKind, GrowthResult, TierChangeView

# Shared test helpers (the suite imports with importlib, so their folder goes on the path).

OPERATOR = Principal(PrincipalKind.STAFF, "ops-1", frozenset({"operator"}))
SUPPORT = Principal(PrincipalKind.STAFF, "cs-1", frozenset({"customer_service"}))
SIGNUP = Principal(PrincipalKind.SERVICE, "members")  # members itself registers (its demo seed); no other service does
POINTS = Principal(PrincipalKind.SERVICE, "points")
PARTNER = Principal(PrincipalKind.PARTNER, "0190a0d0-0000-7000-8000-000000000001")

PHONE = "+8613800131362"
EMAIL = "jane.doe@example.com"


def as_member(member_id: uuid.UUID | str) -> Principal:
    return Principal(PrincipalKind.MEMBER, str(member_id))


def token(principal: Principal, ttl_seconds: int = 600) -> str:
    return mint_token(principal.kind, principal.subject or "", principal.roles, ttl_seconds=ttl_seconds)


@pytest.fixture
async def database(db: str) -> Database:
    """The members service's database, with empty tables."""
    return get_database(db)


async def register(
    database: Database,
    phone: str = PHONE,
    display_name: str = "Jane Doe",
    email: str | None = EMAIL,
    birthday: str | None = "02-29",
    **kwargs: Any,
) -> MemberView:
    return await profiles.register_member(
        database, SIGNUP, phone=phone, display_name=display_name, email=email, birthday=birthday, **kwargs
    )


async def purchase(
    database: Database, member_id: uuid.UUID, yuan: int, *, at: datetime | None = None, event_id: str | None = None,
    now: datetime | None = None,
) -> GrowthResult:
    return await tiers.record_growth(
        database,
        POINTS,
        GrowthInput(event_id or f"purchase-{uuid.uuid4()}", member_id, GrowthKind.PURCHASE, at or utcnow(), yuan * 100, "CNY"),
        now=now,
    )


async def history(database: Database, member_id: uuid.UUID, limit: int = 20) -> list[TierChangeView]:
    """A member's tier history, newest first, as an operator reads it."""
    view = await profiles.get_member(database, OPERATOR, member_id)
    (changes,) = await tiers.history_of(database, OPERATOR, [view], limit)
    assert changes is not None
    return changes


async def growth_of(database: Database, member_id: uuid.UUID) -> int:
    return (await tiers.rolling_growth(database, OPERATOR, [member_id]))[member_id]


async def fetch(database: Database, sql: str, *args: object) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(to_libpq_url(database.url))
    try:
        return await connection.fetch(sql, *args)
    finally:
        await connection.close()


@asynccontextmanager
async def running_app(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[httpx.AsyncClient]:
    """One life of the members app (lifespan start-up to shutdown), reached in-process over HTTP.

    The scheduled review is off (tests run it explicitly) and the points subscriber points at a
    closed port, so outbox deliveries fail fast and stay pending instead of reaching anything."""
    monkeypatch.setenv("ABG_MEMBERS_TIER_REVIEW_INTERVAL_SECONDS", "0")
    monkeypatch.setenv("ABG_POINTS_URL", "http://127.0.0.1:9/graphql")
    reset_settings_cache()
    reset_members_settings_cache()
    from services.members.app import app

    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://members") as http:
                yield http
    finally:
        reset_settings_cache()
        reset_members_settings_cache()


@pytest.fixture
async def client(db: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[httpx.AsyncClient]:
    async with running_app(monkeypatch) as http:
        yield http


async def gql(
    http: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    as_: Principal | None = None,
    bearer: str | None = None,
) -> dict[str, Any]:
    """POSTs a GraphQL operation, signed in as `as_` (a freshly minted token) or with `bearer`."""
    headers = {}
    if as_ is not None:
        bearer = token(as_)
    if bearer is not None:
        headers["authorization"] = f"Bearer {bearer}"
    response = await http.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)
    body = response.json()
    body["_status"] = response.status_code
    return body


def error_codes(body: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in body.get("errors") or []]
