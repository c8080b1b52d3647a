"""This process's one HTTP client for partners' endpoints: webhooks and fulfilment calls (recharges).

Apart from the client for alliance services (`shared.http`): other hosts, no service token, no
redirect followed, no proxy from the environment. Made on first use (an `httpx.AsyncClient` costs
about 30 ms to build), made again if it was closed or belongs to another event loop, and closed when
the app stops (`closed_on_shutdown` wraps the app's lifespan). Callers that need other
time limits than the default set them per request (the recharge client does).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
from starlette.applications import Starlette

from services.benefits.config import BenefitsSettings, get_benefits_settings

__all__ = ["USER_AGENT", "aclose_partner_client", "closed_on_shutdown", "partner_client"]

USER_AGENT = "alliance-benefits-graph"

_client: httpx.AsyncClient | None = None
_client_loop: asyncio.AbstractEventLoop | None = None


def partner_client(settings: BenefitsSettings | None = None) -> httpx.AsyncClient:
    global _client, _client_loop
    loop = asyncio.get_running_loop()
    if _client is None or _client.is_closed or _client_loop is not loop:
        timeout = (settings or get_benefits_settings()).webhook_timeout_seconds
        _client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            follow_redirects=False,
            trust_env=False,
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=30.0),
            headers={"user-agent": USER_AGENT},
        )
        _client_loop = loop
    return _client


async def aclose_partner_client() -> None:
    global _client, _client_loop
    client, _client, _client_loop = _client, None, None
    if client is not None and not client.is_closed:
        await client.aclose()


def closed_on_shutdown(app: Starlette) -> Starlette:
    """`app` with its lifespan wrapped so that the client is closed when the app stops (after its
    background loops, however far they got: a background task cancelled before it ran could not)."""
    inner = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(scope_app: Any) -> AsyncIterator[Any]:
        try:
            async with inner(scope_app) as state:
                yield state
        finally:
            await aclose_partner_client()

    app.router.lifespan_context = lifespan
    return app
