"""The benefits subgraph's ASGI app (`uvicorn services.benefits.app:app`)."""

from __future__ import annotations

from shared.events import outbox_dispatcher
from shared.federation import create_subgraph_app

from services.benefits.codes.http import BulkUploads
from services.benefits.credentials import oauth
from services.benefits.events import SERVICE, WEBHOOKS
from services.benefits.models import OUTBOX
from services.benefits.partner_http import close_at_shutdown
from services.benefits.reservations.expiry import expiry_loop
from services.benefits.schema import schema
from services.benefits.webhooks import delivery, service as webhooks

# The bulk code upload (POST /benefits/{id}/codes) streams bodies far larger than a GraphQL
# request may be, so it is served in front of the subgraph's size-limiting middleware.
app = BulkUploads(
    create_subgraph_app(
        service=SERVICE,
        schema=schema,
        public_routes=[oauth.route()],
        background=[
            outbox_dispatcher(SERVICE, OUTBOX, local={WEBHOOKS: webhooks.fan_out}),
            delivery.webhook_loop,
            expiry_loop,
            close_at_shutdown,
        ],
    )
)
