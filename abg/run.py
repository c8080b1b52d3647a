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

from abg.demo.identities import DemoIdentity, demo_identities
from abg.demo.video_platform import DemoSettings
from abg.gateway import start_gateway
from abg.processes import Supervisor, uvicorn_args, wait_healthy
from abg.seed import describe_seeded, seed_and_close, seed_live_all
from abg.services import SERVICES
from gateway.http.settings import ServerSettings
from shared.database.resolve import database_url_for, embedded_database_url, migrate_service
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
            url = asyncio.run(embedded_database_url(settings))
        for service in SERVICES:
            for note in asyncio.run(migrate_service(service.name, service.migrations, settings)):
                print(f"{service.name}: {note}", flush=True)
        seeded: dict[str, list[Any]] = {}
        if seed and settings.env != "development":
            print(f"Not seeding demo data: ABG_ENV={settings.env} (demo data is for development only).", flush=True)
        elif seed:
            seeded = asyncio.run(seed_and_close(url))
            if seeded:
                print("Seeded demo data: " + describe_seeded(seeded), flush=True)

        env = dict(os.environ)
        demo_video = _start_demo_video_platform(supervisor, _without_database(env))
        for service in SERVICES:
            args = uvicorn_args(service.app, settings.host, settings.port_of(service.name), workers=settings.workers_per_service)
            supervisor.start(service.name, args, _service_env(env, service.name, settings))
        for service in SERVICES:
            wait_healthy(f"http://{settings.host}:{settings.port_of(service.name)}/health", supervisor)
        if seeded:
            for note in asyncio.run(seed_live_all(seeded)):
                print(f"Seeded demo activity: {note}", flush=True)

        gateway_url = start_gateway(supervisor, _without_database(env))
        identities = asyncio.run(_demo_identities()) if settings.env == "development" else []
        _print_banner(gateway_url, demo_video, identities)

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


def _service_env(env: dict[str, str], name: str, settings: Any) -> dict[str, str]:
    """A service's process knows only its own database URL (as its runtime role when roles are on)
    and only its own signing key (`ABG_<SERVICE>_SERVICE_PRIVATE_KEY`, as `abg service-keys` names it)."""
    runtime = asyncio.run(database_url_for(name, settings))
    return signing_env(env, name) | {f"ABG_{name.upper()}_DATABASE_URL": runtime, "ABG_SERVICE_NAME": name}


def signing_env(env: dict[str, str], name: str) -> dict[str, str]:
    """`env` without database secrets or other services' keys, with `name`'s own private key (if
    given) as the one it signs with."""
    key = env.get(f"ABG_{name.upper()}_SERVICE_PRIVATE_KEY")
    return _without_database(env) | ({"ABG_SERVICE_PRIVATE_KEY": key} if key else {})


def _without_database(env: dict[str, str]) -> dict[str, str]:
    """No database URLs, passwords (the admin's least of all) or services' private keys in
    processes that do not need them."""
    private = ("DATABASE_URL", "_DB_PASSWORD", "_SERVICE_PRIVATE_KEY")
    return {key: value for key, value in env.items() if not key.endswith(private)}


def demo_video_enabled(env: str, environ: dict[str, str] | None = None) -> bool:
    """The demo video platform runs in development unless ABG_DEMO_VIDEO_PLATFORM=off; in test only
    when asked for with ABG_DEMO_VIDEO_PLATFORM=on; never in production (it is a demo, never a partner)."""
    if env == "production":
        return False
    wanted = (environ if environ is not None else os.environ).get("ABG_DEMO_VIDEO_PLATFORM", "").strip().lower()
    if wanted in ("on", "true", "1"):
        return True
    if wanted in ("off", "false", "0"):
        return False
    return env == "development"


def _start_demo_video_platform(supervisor: Supervisor, env: dict[str, str]) -> str | None:
    if not demo_video_enabled(get_settings().env, env):
        return None
    demo = DemoSettings.from_env(env)
    supervisor.start("demo video platform", [sys.executable, "-m", "abg.demo.video_platform"], env)
    url = f"http://{demo.host}:{demo.port}"
    wait_healthy(f"{url}/", supervisor)
    return url


async def _demo_identities() -> list[DemoIdentity]:
    from shared.http import aclose_http_client

    try:
        return await demo_identities(get_settings())
    finally:
        await aclose_http_client()


def _print_banner(gateway_url: str, demo_video: str | None = None, identities: list[DemoIdentity] | None = None) -> None:
    settings = get_settings()
    base = gateway_url.removesuffix("/graphql")
    print("\nAlliance Benefits Graph is up:", flush=True)
    print(f"  gateway (one graph)   {gateway_url}   <- point your client here")
    gateway = ServerSettings.from_env()
    if gateway.explorer:
        print(f"  explorer              {base}{gateway.explorer_path}   <- or your browser here (works offline)")
    if gateway.metrics:
        protected = "   (Authorization: Bearer <metrics token>)" if gateway.metrics_token else ""
        print(f"  metrics (Prometheus)  {base}{gateway.metrics_path}{protected}")
    for service in SERVICES:
        print(f"  {service.name:<22}{settings.url_of(service.name)}")
    if demo_video:
        print(f"  demo video platform   {demo_video}   (a DEMO partner platform, for video memberships)")
    print(f"  supergraph            {settings.data_dir / 'supergraph.graphql'}")
    if settings.env != "production":  # `abg token` refuses to mint there
        print("  development tokens:   .venv/bin/abg token --kind staff --subject ops --role operator")
    for identity in identities or ():
        print(f"  {identity.label}: id {identity.subject}")
        print(f"    Authorization: Bearer {identity.token}")
    print("Ctrl-C stops everything.\n", flush=True)
