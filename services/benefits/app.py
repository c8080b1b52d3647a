"""The benefits subgraph's ASGI app (`uvicorn services.benefits.app:app`)."""

from __future__ import annotations

from shared.events import outbox_dispatcher
from shared.federation import create_subgraph_app

from services.benefits.codes.http import BulkUploads
from services.benefits.credentials import oauth
from services.benefits import inbox
from services.benefits.events import SERVICE, WEBHOOKS
from services.benefits.models import OUTBOX
from services.benefits.partner_http import closed_on_shutdown
from services.benefits.reservations.expiry import expiry_loop
from services.benefits.schema import schema
from services.benefits.webhooks import delivery, service as webhooks

subgraph = create_subgraph_app(
    service=SERVICE,
    schema=schema,
    public_routes=[oauth.route()],
    routes=[inbox.route()],
    background=[
        outbox_dispatcher(SERVICE, OUTBOX, local={WEBHOOKS: webhooks.fan_out}),
        delivery.webhook_loop,
        expiry_loop,
    ],
)
# The bulk code upload (POST /benefits/{id}/codes) streams bodies far larger than a GraphQL
# request may be, so it is served in front of the subgraph's size-limiting middleware. The
# client for partners' endpoints (webhooks, recharges) is closed when the app stops.
app = BulkUploads(closed_on_shutdown(subgraph))
