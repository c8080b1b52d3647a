"""The process's one HTTP client for partners: made on first use, shared by webhooks and recharges,
and closed when the benefits app stops (even with its background loops off, as in these tests)."""

from __future__ import annotations

from shared.database import Database

from services.benefits.delivery import service as delivery
from services.benefits.partner_http import USER_AGENT, partner_client
from services.benefits.webhooks import delivery as webhooks


async def test_one_client_for_partners_closed_when_the_app_stops(database: Database) -> None:
    from services.benefits.app import app

    async with app.router.lifespan_context(app.app):
        client = partner_client()
        assert webhooks.webhook_client() is client and delivery.default_client().http is client
        assert client.headers["user-agent"] == USER_AGENT and client.follow_redirects is False and client.trust_env is False
    assert client.is_closed
    again = partner_client()  # a later use (another app, a test) makes a new one
    assert again is not client and not again.is_closed
    await again.aclose()
