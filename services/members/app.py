"""The members subgraph's ASGI app (`uvicorn services.members.app:app`)."""

from __future__ import annotations

from shared.events import outbox_dispatcher
from shared.federation import create_subgraph_app

from services.members import events, jobs
from services.members.access import SERVICE_NAME
from services.members.models import OUTBOX
from services.members.schema import schema

app = create_subgraph_app(
    service=SERVICE_NAME,
    schema=schema,
    routes=[events.route()],
    background=[outbox_dispatcher(SERVICE_NAME, OUTBOX), jobs.tier_review_loop],
)
