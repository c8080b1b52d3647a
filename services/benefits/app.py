"""The benefits subgraph's ASGI app (`uvicorn services.benefits.app:app`)."""

from __future__ import annotations

from shared.events import outbox_dispatcher
from shared.federation import create_subgraph_app

from services.benefits.credentials import oauth
from services.benefits.events import SERVICE, WEBHOOKS
from services.benefits.models import OUTBOX
from services.benefits.schema import schema
from services.benefits.webhooks import delivery, service as webhooks

app = create_subgraph_app(
    service=SERVICE,
    schema=schema,
    public_routes=[oauth.route()],
    background=[outbox_dispatcher(SERVICE, OUTBOX, local={WEBHOOKS: webhooks.fan_out}), delivery.webhook_loop],
)
