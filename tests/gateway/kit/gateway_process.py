"""`python -m gateway serve` as a real process in front of a scenario's subgraphs, for tests of
the process model (workers, signals, reloads). Everything here awaits: the subgraphs run in the
test's own event loop, so blocking it would stall them."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import httpx
import psutil

from live_services import free_port
from tests.gateway.kit.scenarios import FIXTURES, Scenario


def supergraph_for(scenario: Scenario, path: Path, drop_line: str | None = None) -> Path:
    """The scenario's supergraph with routing URLs of its running subgraphs, written atomically
    (a reload must never read half a file); `drop_line` leaves out a field's line."""
    sdl = (FIXTURES / scenario.name / "supergraph.graphql").read_text()
    for name, url in scenario.urls.items():
        sdl = sdl.replace(f"http://{name}.subgraph.test/graphql", url)
    if drop_line is not None:
        assert drop_line in sdl, drop_line
        sdl = sdl.replace(drop_line + "\n", "")
    write_atomically(path, sdl)
    return path


def write_atomically(path: Path, text: str) -> None:
    temporary = path.with_suffix(".tmp")
    temporary.write_text(text)
    os.replace(temporary, path)


class GatewayProcess:
    def __init__(self, supergraph: Path, log: Path, workers: int, env: dict[str, str] | None = None) -> None:
        self.supergraph = supergraph
        self.log = log
        self.workers = workers
        self.env = env or {}
        self.port = free_port()
        self.process: asyncio.subprocess.Process | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    async def start(self) -> GatewayProcess:
        env = {**os.environ, "ABG_ENV": "test", **self.env}
        env.pop("ABG_GATEWAY_WORKERS", None)
        with self.log.open("wb") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "gateway", "serve", "--supergraph", str(self.supergraph),
                "--port", str(self.port), "--workers", str(self.workers), "--log-level", "info",
                stdout=log, stderr=asyncio.subprocess.STDOUT, env=env,
            )
        async with httpx.AsyncClient(base_url=self.base_url, timeout=5) as client:
            for _ in range(600):
                if self.process.returncode is not None:
                    raise AssertionError(f"the gateway exited with {self.process.returncode}:\n{self.output()}")
                try:
                    if (await client.get("/health")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.05)
            else:
                raise AssertionError(f"the gateway did not come up:\n{self.output()}")
        if self.workers > 1:
            await self.wait_for_workers(self.workers)
        await self.wait_for_log("Application startup complete", self.workers)
        return self

    def worker_pids(self) -> set[int]:
        return {child.pid for child in psutil.Process(self.pid).children() if child.status() != psutil.STATUS_ZOMBIE}

    async def wait_for_workers(self, count: int, other_than: set[int] = frozenset()) -> set[int]:  # type: ignore[assignment]
        for _ in range(600):
            pids = self.worker_pids()
            if len(pids) == count and not pids & other_than:
                return pids
            await asyncio.sleep(0.05)
        raise AssertionError(f"expected {count} workers, have {self.worker_pids()}:\n{self.output()}")

    async def wait_for_log(self, text: str, times: int = 1) -> None:
        for _ in range(600):
            if self.output().count(text) >= times:
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"{text!r} not logged {times} times:\n{self.output()}")

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def signal(self, signo: int) -> None:
        os.kill(self.pid, signo)

    async def stop(self) -> int:
        """SIGTERM, then the exit status (the whole tree is killed if it does not stop)."""
        assert self.process is not None
        if self.process.returncode is None:
            tree = [psutil.Process(self.pid), *psutil.Process(self.pid).children(recursive=True)]
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), 40)
            except TimeoutError:
                for process in tree:
                    if process.is_running():
                        process.kill()
                await self.process.wait()
        return self.process.returncode
