"""What every subgraph shares: the schema builder, the request context, error policy and the ASGI app."""

from shared.federation.app import create_subgraph_app
from shared.federation.context import Context, Info
from shared.federation.schema import FEDERATION_VERSION, build_schema

__all__ = ["create_subgraph_app", "Context", "Info", "FEDERATION_VERSION", "build_schema"]
