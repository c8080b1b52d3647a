"""`abg serve` starts as many worker processes as ABG_WORKERS says, on one port, each serving."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import psutil

from live_services import start_processes
from shared.auth.tokens import mint_token
from shared.settings import settings_of_environment


async def test_a_service_serves_from_several_workers(database_url: str, tmp_path: Path) -> None:
    processes = start_processes(["points"], database_url=database_url, log_dir=tmp_path, env={"ABG_WORKERS": "2"})
    try:
        supervisor = psutil.Process(processes.processes["points"].pid)
        workers = [p for p in supervisor.children() if "spawn_main" in " ".join(p.cmdline())]  # not the resource tracker
        assert len(workers) == 2
        token = mint_token("service", "redemptions", settings=settings_of_environment({}))
        query = {"query": "{ _service { sdl } }"}
        before = {w.pid: w.cpu_times().user + w.cpu_times().system for w in workers}

        async def ask() -> httpx.Response:  # a connection of its own each, as separate clients would
            async with httpx.AsyncClient(timeout=10) as client:
                return await client.post(processes.urls["points"], json=query, headers={"authorization": f"Bearer {token}"})

        answers = await asyncio.gather(*(ask() for _ in range(200)))
        assert {a.status_code for a in answers} == {200}
        # Each connection went to whichever worker accepted it: both did some of the work.
        busy = [w for w in workers if w.cpu_times().user + w.cpu_times().system > before[w.pid]]
        assert len(busy) == 2
    finally:
        processes.close()
