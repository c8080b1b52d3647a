"""The benefits subgraph's ASGI app (`uvicorn services.benefits.app:app`)."""

from __future__ import annotations

from shared.federation import create_subgraph_app

from services.benefits.codes.http import BulkUploads
from services.benefits.reservations.expiry import expiry_loop
from services.benefits.schema import schema

# The bulk code upload (POST /benefits/{id}/codes) streams bodies far larger than a GraphQL
# request may be, so it is served in front of the subgraph's size-limiting middleware.
app = BulkUploads(create_subgraph_app(service="benefits", schema=schema, background=[expiry_loop]))
