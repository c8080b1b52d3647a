"""GraphQL over HTTP for the gateway (Starlette + uvicorn)."""

from .app import RequestHook, create_app
from .settings import ServerSettings

__all__ = ["RequestHook", "ServerSettings", "create_app"]
