"""The gateway's part in `abg run`: compose the running subgraphs, then serve the supergraph.

The supergraph is written to the data dir, so the same file can be handed to Hive Gateway or
Apollo Router unchanged.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Sequence

from abg.processes import Supervisor, wait_healthy
from abg.services import SERVICES, Service
from gateway.composition import compose_from_urls
from shared.auth.tokens import service_token
from shared.settings import get_settings


def start_gateway(supervisor: Supervisor, env: dict[str, str], services: Sequence[Service] = SERVICES) -> str:
    """Starts the gateway over the running `services`; returns its GraphQL URL once it is healthy."""
    settings = get_settings()
    # As a service: subgraphs with introspection off give `_service { sdl }` to services only. With
    # per-service keys (`abg service-keys`) the gateway's own key signs.
    own_key = os.environ.get("ABG_GATEWAY_SERVICE_PRIVATE_KEY")
    signer = settings.model_copy(update={"service_private_key": own_key}) if own_key else settings
    headers = {"authorization": f"Bearer {service_token('gateway', signer)}"}
    urls = {service.name: settings.url_of(service.name) for service in services}
    result = asyncio.run(compose_from_urls(urls, headers=headers))
    if not result.ok:
        details = "\n".join(f"  {error.code}: {error.message}" for error in result.errors)
        raise RuntimeError(f"the subgraphs do not compose:\n{details}")
    path = settings.data_dir / "supergraph.graphql"
    path.write_text(result.supergraph_sdl)
    args = [sys.executable, "-m", "gateway", "serve", "--supergraph", str(path)]
    args += ["--host", settings.host, "--port", str(settings.gateway_port)]
    supervisor.start("gateway", args, env)
    base = f"http://{settings.host}:{settings.gateway_port}"
    wait_healthy(f"{base}/health", supervisor)
    return f"{base}/graphql"
