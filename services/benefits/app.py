"""The benefits subgraph's ASGI app (`uvicorn services.benefits.app:app`)."""

from __future__ import annotations

from shared.federation import create_subgraph_app

from services.benefits.schema import schema

app = create_subgraph_app(service="benefits", schema=schema)
