"""`run`: the whole graph on one machine, in the foreground.

Starts the embedded PostgreSQL (unless DATABASE_URL names a server), migrates and seeds every
service, starts each subgraph in its own uvicorn process and then the gateway composed over them,
prints where to point a client, and on Ctrl-C (or SIGTERM) stops every child and the database.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from shared.database import get_database
from shared.database.migrations import upgrade
from shared.database.resolve import EMBEDDED_DATABASE, ensure_database
from shared.registry import SERVICES
from shared.settings import get_settings

log = logging.getLogger("abg.run")


@dataclass
class Supervisor:
    """Child processes, stopped in reverse order of start."""

    children: list[tuple[str, subprocess.Popen]] = field(default_factory=list)

    def start(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen:
        # A process group of its own: a Ctrl-C in the terminal reaches us, and we stop the child.
        process = subprocess.Popen(args, env=env, start_new_session=True)
        self.children.append((name, process))
        return process

    def check(self) -> str | None:
        """The name of a child that has died, if any."""
        for name, process in self.children:
            if process.poll() is not None:
                return name
        return None

    def stop_all(self, timeout: float = 10.0) -> None:
        for _, process in reversed(self.children):
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + timeout
        for _, process in reversed(self.children):
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.children.clear()


def uvicorn_args(app: str, host: str, port: int, *, factory: bool = False) -> list[str]:
    args = [sys.executable, "-m", "uvicorn", app, "--host", host, "--port", str(port)]
    args += ["--loop", "uvloop", "--http", "httptools", "--no-access-log", "--timeout-graceful-shutdown", "5"]
    return args + (["--factory"] if factory else [])


def wait_healthy(url: str, supervisor: Supervisor, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        dead = supervisor.check()
        if dead:
            raise RuntimeError(f"{dead} exited during start-up (see its log above)")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not become healthy within {timeout:.0f} s")


def _seed_module(name: str) -> Any:
    try:
        return importlib.import_module(f"services.{name}.seed")
    except ModuleNotFoundError:
        return None


async def seed_all(url: str) -> dict[str, list[Any]]:
    """Runs each service's demo seed (a no-op on a database that already has data); returns the
    ids each service created, by service."""
    done: dict[str, list[Any]] = {}
    for spec in SERVICES:
        seed_module = _seed_module(spec.name)
        if seed_module is None:
            continue
        created = await seed_module.seed_demo(get_database(url))
        if created:
            done[spec.name] = list(created)
    return done


def describe_seeded(seeded: dict[str, list[Any]]) -> str:
    return ", ".join(f"{name}: {len(ids)}" for name, ids in seeded.items())


async def seed_live_all(seeded: dict[str, list[Any]]) -> list[str]:
    """Once every service is up: each service's `seed_live(seeded)`, demo activity that goes
    through the services' own APIs (purchases of the members just seeded, say)."""
    from shared.http import aclose_http_client

    notes = []
    try:
        for spec in SERVICES:
            live = getattr(_seed_module(spec.name), "seed_live", None)
            if live is not None and (note := await live(seeded)):
                notes.append(note)
    finally:
        await aclose_http_client()
    return notes


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
        for spec in SERVICES:
            upgrade(spec.name, settings.database_url_of(spec.name) or url)
        seeded: dict[str, list[Any]] = {}
        if seed:
            seeded = asyncio.run(_seed_and_close(url))
            if seeded:
                print("Seeded demo data: " + describe_seeded(seeded), flush=True)

        env = dict(os.environ, DATABASE_URL=url)
        for spec in SERVICES:
            args = uvicorn_args(spec.app, settings.host, settings.port_of(spec.name))
            supervisor.start(spec.name, args, dict(env, ABG_SERVICE_NAME=spec.name))
        for spec in SERVICES:
            wait_healthy(f"http://{settings.host}:{settings.port_of(spec.name)}/health", supervisor)
        if seeded:
            for note in asyncio.run(seed_live_all(seeded)):
                print(f"Seeded demo activity: {note}", flush=True)

        gateway_url = _start_gateway(supervisor, env)

        print("\nAlliance Benefits Graph is up:", flush=True)
        if gateway_url:
            base = gateway_url.removesuffix("/graphql")
            print(f"  gateway (one graph)   {gateway_url}   <- point your client here")
            print(f"  explorer              {base}/explorer   <- or your browser here (works offline)")
            print(f"  metrics (Prometheus)  {base}/metrics")
        for spec in SERVICES:
            print(f"  {spec.name:<22}{settings.url_of(spec.name)}")
        if gateway_url:
            print(f"  supergraph            {settings.data_dir / 'supergraph.graphql'}")
        print("  development tokens:   .venv/bin/abg token --kind staff --subject ops --role operator")
        print("Ctrl-C stops everything.\n", flush=True)

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


async def _seed_and_close(url: str) -> dict[str, list[Any]]:
    from shared.database import dispose_databases

    try:
        return await seed_all(url)
    finally:
        await dispose_databases()


def _start_gateway(supervisor: Supervisor, env: dict[str, str]) -> str | None:
    """Composes the supergraph from the running subgraphs and starts the gateway, once it exists."""
    try:
        from gateway.run import start_gateway  # the gateway's own start-up hook
    except ImportError:
        return None
    return start_gateway(supervisor, env)
