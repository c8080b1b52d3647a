"""`abg run`: the whole graph on one machine, in the foreground.

Starts the embedded PostgreSQL (unless DATABASE_URL names a server), migrates and seeds every
service, starts each subgraph in its own uvicorn process and then the gateway composed over them,
prints where to point a client, and on Ctrl-C (or SIGTERM) stops every child and the database.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from typing import Any

from abg.gateway import start_gateway
from abg.processes import Supervisor, uvicorn_args, wait_healthy
from abg.seed import describe_seeded, seed_and_close, seed_live_all
from abg.services import SERVICES
from shared.database.migrations import upgrade
from shared.database.resolve import EMBEDDED_DATABASE, ensure_database
from shared.settings import get_settings


def run_all(*, seed: bool = True) -> int:
    settings = get_settings()
    embedded = None
    supervisor = Supervisor()
    stopping = False

    def on_signal(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        url = settings.database_url
        if not url:
            from shared.database.embedded import start_embedded

            print(f"Starting embedded PostgreSQL (data in {settings.data_dir / 'pg'}) ...", flush=True)
            embedded = start_embedded(settings.data_dir / "pg")
            url = asyncio.run(ensure_database(embedded.url, EMBEDDED_DATABASE))
        for service in SERVICES:
            upgrade(service.migrations, settings.database_url_of(service.name) or url)
        seeded: dict[str, list[Any]] = {}
        if seed:
            seeded = asyncio.run(seed_and_close(url))
            if seeded:
                print("Seeded demo data: " + describe_seeded(seeded), flush=True)

        env = dict(os.environ, DATABASE_URL=url)
        for service in SERVICES:
            args = uvicorn_args(service.app, settings.host, settings.port_of(service.name))
            supervisor.start(service.name, args, dict(env, ABG_SERVICE_NAME=service.name))
        for service in SERVICES:
            wait_healthy(f"http://{settings.host}:{settings.port_of(service.name)}/health", supervisor)
        if seeded:
            for note in asyncio.run(seed_live_all(seeded)):
                print(f"Seeded demo activity: {note}", flush=True)

        gateway_url = start_gateway(supervisor, env)
        _print_banner(gateway_url)

        while not stopping:
            dead = supervisor.check()
            if dead:
                print(f"{dead} exited; stopping everything.", file=sys.stderr)
                return 1
            time.sleep(0.5)
        return 0
    finally:
        print("Stopping ...", flush=True)
        supervisor.stop_all()
        if embedded is not None:
            embedded.stop()
        print("Stopped.", flush=True)


def _print_banner(gateway_url: str) -> None:
    settings = get_settings()
    base = gateway_url.removesuffix("/graphql")
    print("\nAlliance Benefits Graph is up:", flush=True)
    print(f"  gateway (one graph)   {gateway_url}   <- point your client here")
    print(f"  explorer              {base}/explorer   <- or your browser here (works offline)")
    print(f"  metrics (Prometheus)  {base}/metrics")
    for service in SERVICES:
        print(f"  {service.name:<22}{settings.url_of(service.name)}")
    print(f"  supergraph            {settings.data_dir / 'supergraph.graphql'}")
    print("  development tokens:   .venv/bin/abg token --kind staff --subject ops --role operator")
    print("Ctrl-C stops everything.\n", flush=True)
