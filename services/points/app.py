"""The points subgraph's ASGI app (`uvicorn services.points.app:app`)."""

from __future__ import annotations

from shared.federation import create_subgraph_app

from services.points import events, jobs
from services.points.schema import schema

app = create_subgraph_app(
    service="points",
    schema=schema,
    routes=[events.events_route()],
    background=[events.dispatcher(), jobs.jobs_loop],
)
