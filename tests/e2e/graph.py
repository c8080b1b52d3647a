"""Helpers of the end-to-end tests: `abg run` as a user starts it, on free ports, and tokens it accepts."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from abg.services import SERVICES
from shared.settings import PROJECT_ROOT
from live_services import free_port


def run_env(data_dir: Path) -> tuple[dict[str, str], dict[str, int]]:
    """The environment of `abg run` in development on free ports (no DATABASE_URL: embedded
    PostgreSQL in `data_dir`), and the ports by name (each service, gateway, demo_video)."""
    ports = {spec.name: free_port() for spec in SERVICES} | {"gateway": free_port(), "demo_video": free_port()}
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL" and not k.startswith("ABG_")}
    env |= {f"ABG_{name.upper()}_PORT": str(port) for name, port in ports.items()}
    env |= {"ABG_DATA_DIR": str(data_dir), "ABG_ENV": "development"}
    return env, ports


def start_run(env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "abg", "run"],
        cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )


def read_until_up(process: subprocess.Popen[str], output: list[str], timeout: float) -> str:
    """Reads `abg run`'s output into `output` until its banner ends (or it exits, or time is up)."""
    deadline = time.monotonic() + timeout
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        output.append(line)
        if line.startswith("Ctrl-C stops everything"):
            break
    return "".join(output)


@dataclass
class RunningGraph:
    env: dict[str, str]
    ports: dict[str, int]
    banner: str

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['gateway']}/graphql"


@contextmanager
def running_graph(data_dir: Path, timeout: float) -> Iterator[RunningGraph]:
    """`abg run` up (its banner printed), then Ctrl-C; it must stop cleanly (exit status 0)."""
    env, ports = run_env(data_dir)
    process = start_run(env)
    output: list[str] = []
    try:
        banner = read_until_up(process, output, timeout=timeout)
        assert "Ctrl-C stops everything" in banner, banner
        yield RunningGraph(env, ports, banner)
    finally:
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=30)
        output.append(rest)
    assert process.returncode == 0, "".join(output)
