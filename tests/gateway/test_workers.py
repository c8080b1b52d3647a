"""`serve --workers N`: several processes on one port, metrics summed over them, a dead worker
replaced, SIGTERM draining what is in flight. Real processes, real HTTP."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections import Counter
from pathlib import Path

import httpx
import psutil
import pytest
from prometheus_client.parser import text_string_to_metric_families

from gateway.http.settings import ServerSettings
from live_services import free_port
from tests.gateway.kit.gateway_process import GatewayProcess, supergraph_for
from tests.gateway.kit.scenarios import Shop

QUERY = {"query": "{ me { name } }"}
ANSWER = {"data": {"me": {"name": "Ada Lovelace"}}}

pytestmark = pytest.mark.timeout(120)


async def _two_workers(shop: Shop, tmp_path: Path) -> GatewayProcess:
    supergraph = supergraph_for(shop, tmp_path / "supergraph.graphql")
    return await GatewayProcess(supergraph, tmp_path / "gateway.log", workers=2).start()


def _ok_queries(metrics_text: str) -> float:
    for family in text_string_to_metric_families(metrics_text):
        for sample in family.samples:
            if sample.name == "gateway_requests_total" and sample.labels == {"operation_type": "query", "outcome": "ok"}:
                return sample.value
    return 0.0


def _worker_of_each_connection(gateway: GatewayProcess, workers: set[int]) -> dict[int, int]:
    """Client port -> the worker holding the server side of that connection."""
    owner = {}
    for pid in workers:
        for connection in psutil.Process(pid).net_connections(kind="tcp"):
            if connection.laddr.port == gateway.port and connection.raddr:
                owner[connection.raddr.port] = pid
    return owner


async def test_requests_spread_over_two_workers_and_any_scrape_counts_them_all(shop: Shop, tmp_path: Path) -> None:
    gateway = await _two_workers(shop, tmp_path)
    clients = [httpx.AsyncClient(base_url=gateway.base_url, timeout=10) for _ in range(16)]  # one connection each
    try:
        workers = gateway.worker_pids()
        assert len(workers) == 2
        client_ports = []
        for client in clients:
            response = await client.post("/graphql", json=QUERY)
            assert response.json() == ANSWER
            client_ports.append(response.extensions["network_stream"].get_extra_info("client_addr")[1])
        owner = _worker_of_each_connection(gateway, workers)
        connections_per_worker = Counter(owner[port] for port in client_ports)
        assert set(connections_per_worker) == workers, connections_per_worker  # both workers serve

        sent = len(clients)
        for index, client in enumerate(clients):  # more on each kept-alive connection, unevenly
            for _ in range(index):
                assert (await client.post("/graphql", json=QUERY)).json() == ANSWER
                sent += 1

        totals = []
        for _ in range(8):  # fresh connections, so the scrapes land on either worker
            async with httpx.AsyncClient(base_url=gateway.base_url, timeout=10) as scraper:
                text = (await scraper.get("/metrics")).text
                totals.append(_ok_queries(text))
        assert totals == [sent] * 8
    finally:
        for client in clients:
            await client.aclose()
        assert await gateway.stop() == 0


async def test_a_worker_that_dies_is_replaced(shop: Shop, tmp_path: Path) -> None:
    gateway = await _two_workers(shop, tmp_path)
    try:
        victim = min(gateway.worker_pids())
        os.kill(victim, signal.SIGKILL)
        survivors = await gateway.wait_for_workers(2, other_than={victim})
        assert victim not in survivors
        await gateway.wait_for_log("Application startup complete", 3)  # the replacement serves
        assert "exited with signal SIGKILL" in gateway.output()

        async def ask() -> httpx.Response:
            async with httpx.AsyncClient(base_url=gateway.base_url, timeout=10) as client:
                return await client.post("/graphql", json=QUERY)

        answers = await asyncio.gather(*(ask() for _ in range(20)))
        assert [a.json() for a in answers] == [ANSWER] * 20
    finally:
        assert await gateway.stop() == 0


async def test_sigterm_lets_requests_in_flight_finish_then_stops_every_worker(shop: Shop, tmp_path: Path) -> None:
    gateway = await _two_workers(shop, tmp_path)
    workers = gateway.worker_pids()
    accounts = shop.subgraphs["accounts"]
    accounts.delay = 1.0  # holds the request inside the gateway while it is told to stop
    async with httpx.AsyncClient(base_url=gateway.base_url, timeout=30) as client:
        in_flight = asyncio.create_task(client.post("/graphql", json=QUERY))
        while not accounts.requests:
            await asyncio.sleep(0.01)
        gateway.signal(signal.SIGTERM)
        response = await in_flight
    assert response.status_code == 200 and response.json() == ANSWER
    assert await gateway.stop() == 0
    assert not [pid for pid in workers if psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE]
    assert "draining and stopping 2 workers" in gateway.output()


def test_workers_default_to_the_cores_in_production_and_one_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ABG_GATEWAY_WORKERS", raising=False)
    monkeypatch.setenv("ABG_ENV", "development")
    assert ServerSettings.from_env().workers == 1
    monkeypatch.setenv("ABG_ENV", "production")
    assert ServerSettings.from_env().workers == len(os.sched_getaffinity(0))
    monkeypatch.setenv("ABG_GATEWAY_WORKERS", "3")
    assert ServerSettings.from_env().workers == 3
    monkeypatch.setenv("ABG_GATEWAY_WORKERS", "0")
    with pytest.raises(ValueError):
        ServerSettings.from_env()


async def test_workers_that_cannot_start_as_configured_stop_the_gateway(shop: Shop, tmp_path: Path) -> None:
    # restarting them would never help: the gateway exits (EX_CONFIG) instead of looping
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway", "serve", "--supergraph", str(supergraph_for(shop, tmp_path / "s.graphql")),
        "--port", str(free_port()), "--workers", "2", "--trusted-documents", str(tmp_path / "missing.json"),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, env={**os.environ, "ABG_ENV": "test"},
    )
    output, _ = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 78, output.decode()
    assert b"cannot use the trusted documents" in output
