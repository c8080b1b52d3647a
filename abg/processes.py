"""The child processes of `abg run`: started in their own process groups, stopped in reverse order."""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass, field

import httpx


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


def uvicorn_args(app: str, host: str, port: int, *, factory: bool = False, workers: int = 1) -> list[str]:
    """`workers` > 1: uvicorn's supervisor forks that many worker processes on one socket (a
    Python process uses one core; several use them all)."""
    args = [sys.executable, "-m", "uvicorn", app, "--host", host, "--port", str(port)]
    args += ["--loop", "uvloop", "--http", "httptools", "--no-access-log", "--timeout-graceful-shutdown", "5"]
    if workers > 1:
        args += ["--workers", str(workers)]
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
