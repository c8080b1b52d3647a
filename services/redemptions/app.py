"""The redemptions subgraph's ASGI app (`uvicorn services.redemptions.app:app`)."""

from __future__ import annotations

from shared.events import outbox_dispatcher
from shared.federation import create_subgraph_app

from services.redemptions import events
from services.redemptions.access import SERVICE_NAME
from services.redemptions.models import OUTBOX
from services.redemptions.saga.driver import recovery_loop
from services.redemptions.schema import schema

app = create_subgraph_app(
    service=SERVICE_NAME,
    schema=schema,
    routes=[events.route()],
    background=[outbox_dispatcher(SERVICE_NAME, OUTBOX), recovery_loop],
)
