"""Real service processes for tests that need other services over real HTTP.

`start_processes` runs subgraphs as `python -m abg serve <name>` children on free ports against the
test database, and waits until each answers /ready. `serve_in_process` serves one app with uvicorn
inside the test's own event loop instead: its outgoing calls then go through this process's httpx,
so respx can stand in for the outside world (partners' APIs) that app calls.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, AsyncIterator

import httpx
import uvicorn

from shared.settings import PROJECT_ROOT


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def url_env(urls: Mapping[str, str]) -> dict[str, str]:
    """The environment variables that point services (and this process) at these URLs."""
    return {f"ABG_{name.upper()}_URL": url for name, url in urls.items()}


@dataclass
class Processes:
    urls: dict[str, str]
    processes: dict[str, subprocess.Popen[bytes]]
    logs: dict[str, Path]
    _files: list[IO[bytes]] = field(default_factory=list)

    def stop(self, name: str | None = None, *, kill: bool = False) -> None:
        for which, process in self.processes.items():
            if name is not None and which != name:
                continue
            if process.poll() is None:
                process.kill() if kill else process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)

    def close(self) -> None:
        self.stop()
        for handle in self._files:
            handle.close()

    def log_tail(self, name: str, lines: int = 40) -> str:
        return "\n".join(self.logs[name].read_text(errors="replace").splitlines()[-lines:])


def start_processes(
    names: Sequence[str], *, database_url: str, log_dir: Path, env: Mapping[str, str] | None = None,
    known_urls: Mapping[str, str] | None = None, ports: Mapping[str, int] | None = None, timeout: float = 90.0,
) -> Processes:
    """Starts each named service as a child process; all of them (and `known_urls`) know each other."""
    log_dir.mkdir(parents=True, exist_ok=True)
    chosen = {name: (ports or {}).get(name) or free_port() for name in names}
    urls = {name: f"http://127.0.0.1:{port}/graphql" for name, port in chosen.items()}
    base = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    # One process per service: tests signal and kill "the" process (crash recovery, restarts).
    base |= {"DATABASE_URL": database_url, "ABG_ENV": "test", "ABG_LOG_LEVEL": "WARNING", "ABG_WORKERS": "1"}
    base |= url_env({**(known_urls or {}), **urls}) | dict(env or {})
    found = Processes(urls, {}, {})
    for name, port in chosen.items():
        found.logs[name] = log_dir / f"{name}.log"
        handle = open(found.logs[name], "ab")  # noqa: SIM115 - closed by Processes.close
        found._files.append(handle)
        found.processes[name] = subprocess.Popen(
            [sys.executable, "-m", "abg", "serve", name, "--host", "127.0.0.1", "--port", str(port)],
            cwd=PROJECT_ROOT, env=base, stdout=handle, stderr=subprocess.STDOUT,
        )
    try:
        for name in chosen:
            wait_ready(found, name, timeout=timeout)
    except BaseException:
        found.close()
        raise
    return found


def wait_ready(found: Processes, name: str, *, timeout: float = 90.0) -> None:
    ready = found.urls[name].replace("/graphql", "/ready")
    deadline = time.monotonic() + timeout
    while True:
        if found.processes[name].poll() is not None:
            raise RuntimeError(f"{name} exited with {found.processes[name].returncode}:\n{found.log_tail(name)}")
        try:
            if httpx.get(ready, timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{name} was not ready within {timeout} s:\n{found.log_tail(name)}")
        time.sleep(0.2)


@asynccontextmanager
async def serve_in_process(app: Any, *, port: int | None = None) -> AsyncIterator[str]:
    """Serves `app` with uvicorn in this event loop (lifespan included); yields its GraphQL URL."""
    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(300):
            if server.started:
                break
            if task.done():
                task.result()
            await asyncio.sleep(0.02)
        yield f"http://127.0.0.1:{port}/graphql"
    finally:
        server.should_exit = True
        await task
