"""The points subgraph's ASGI app (`uvicorn services.points.app:app`)."""

from __future__ import annotations

from shared.federation import create_subgraph_app

from services.points import events, jobs
from services.points.audit import checkpoints
from services.points.schema import schema

# Refuse to start in production without a checkpoint key of its own (not at the first checkpoint).
checkpoints.signing_key()

app = create_subgraph_app(
    service="points",
    schema=schema,
    routes=[events.events_route()],
    background=[events.dispatcher(), jobs.jobs_loop],
)
