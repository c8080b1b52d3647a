"""The gateway's part in `abg run`: compose the running subgraphs, then serve the supergraph.

The supergraph is written to the data dir, so the same file can be handed to Hive Gateway or
Apollo Router unchanged. The gateway runs as many worker processes as the services do (ABG_WORKERS,
else one per core up to 4) unless ABG_GATEWAY_WORKERS says otherwise; `kill -HUP` on it reloads
that file after a new composition is written there.
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
from shared.settings import Settings, get_settings


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
    supervisor.start("gateway", gateway_args(str(path), settings, env), env)
    base = f"http://{settings.host}:{settings.gateway_port}"
    wait_healthy(f"{base}/health", supervisor)
    return f"{base}/graphql"


def gateway_args(supergraph: str, settings: Settings, env: dict[str, str]) -> list[str]:
    """The gateway's command line. Its workers: ABG_GATEWAY_WORKERS when set (the gateway reads it
    itself), else as many as each service runs."""
    args = [sys.executable, "-m", "gateway", "serve", "--supergraph", supergraph]
    args += ["--host", settings.host, "--port", str(settings.gateway_port)]
    if not env.get("ABG_GATEWAY_WORKERS", "").strip():
        args += ["--workers", str(settings.workers_per_service)]
    return args
