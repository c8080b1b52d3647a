"""SIGHUP reloads the supergraph file in every worker without losing a request; a supergraph
that cannot be loaded is refused and the old one keeps serving. Real processes, real HTTP."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import httpx
import pytest

from gateway.execution.client import SubgraphSettings
from gateway.execution.pipeline import Gateway, GraphQLRequest, PipelineOptions
from gateway.serving.reload import ReloadableGateway
from gateway.supergraph import load_supergraph_file
from tests.gateway.kit.gateway_process import GatewayProcess, supergraph_for, write_atomically
from tests.gateway.kit.scenarios import Shop

pytestmark = pytest.mark.timeout(120)

EMAIL_LINE = "  email: String @join__field(graph: ACCOUNTS)"  # the field the new supergraph adds
NAME = {"query": "{ me { name } }"}
EMAIL = {"query": "{ me { email } }"}


class Load:
    """Clients asking without pause until stopped: half keep their connection, half open a new
    one per request (so they reach every worker); every answer is kept to be checked."""

    def __init__(self, base_url: str, clients: int = 4) -> None:
        self.base_url = base_url
        self.stopping = asyncio.Event()
        self.answers: list[tuple[int, dict | str]] = []
        self.tasks = [asyncio.create_task(self._ask(keep_alive=index % 2 == 0)) for index in range(clients)]

    async def _ask(self, keep_alive: bool) -> None:
        client = httpx.AsyncClient(base_url=self.base_url, timeout=30)
        try:
            while not self.stopping.is_set():
                if not keep_alive:
                    await client.aclose()
                    client = httpx.AsyncClient(base_url=self.base_url, timeout=30)
                try:
                    response = await client.post("/graphql", json=NAME)
                    self.answers.append((response.status_code, response.json()))
                except httpx.HTTPError as error:
                    self.answers.append((0, repr(error)))
        finally:
            await client.aclose()

    async def answered(self, count: int) -> None:
        """Waits until `count` answers have come back (the load is really running)."""
        while len(self.answers) < count:
            await asyncio.sleep(0.01)

    async def stop(self) -> list[tuple[int, dict | str]]:
        self.stopping.set()
        await asyncio.gather(*self.tasks)
        return self.answers


async def _fresh(gateway: GatewayProcess, body: dict) -> dict:
    async with httpx.AsyncClient(base_url=gateway.base_url, timeout=30) as client:
        return (await client.post("/graphql", json=body)).json()


@pytest.mark.parametrize("workers", [2, 1])
async def test_sighup_switches_every_worker_to_the_new_supergraph_losing_no_request(
    shop: Shop, tmp_path: Path, workers: int
) -> None:
    path = supergraph_for(shop, tmp_path / "supergraph.graphql", drop_line=EMAIL_LINE)
    gateway = await GatewayProcess(path, tmp_path / "gateway.log", workers=workers).start()
    load = None
    try:
        before = await _fresh(gateway, EMAIL)
        assert before["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"

        # a request in flight when the switch happens finishes on the supergraph it started on
        accounts = shop.subgraphs["accounts"]
        accounts.delay = 0.5
        slow = asyncio.create_task(_fresh(gateway, NAME))
        while not accounts.requests:
            await asyncio.sleep(0.01)
        load = Load(gateway.base_url)
        await load.answered(8)
        supergraph_for(shop, path)  # the full supergraph: `email` is back
        gateway.signal(signal.SIGHUP)
        await gateway.wait_for_log("supergraph reloaded", times=workers)
        assert await slow == {"data": {"me": {"name": "Ada Lovelace"}}}
        accounts.delay = 0.0
        await load.answered(len(load.answers) + 50)  # and it goes on after the switch
        after = [await _fresh(gateway, EMAIL) for _ in range(10)]  # new connections: every worker
        answers = await load.stop()
        load = None

        assert after == [{"data": {"me": {"email": "ada@example.test"}}}] * 10
        assert len(answers) > 0
        assert {status for status, _ in answers} == {200}, [a for a in answers if a[0] != 200][:3]
        assert all(body == {"data": {"me": {"name": "Ada Lovelace"}}} for _, body in answers)
    finally:
        if load is not None:
            await load.stop()
        # one process is uvicorn alone, which re-raises SIGTERM once it has shut down cleanly
        assert await gateway.stop() in ((0,) if workers > 1 else (0, -signal.SIGTERM))


async def test_a_supergraph_that_does_not_load_is_refused_and_the_old_one_keeps_serving(
    shop: Shop, tmp_path: Path
) -> None:
    path = supergraph_for(shop, tmp_path / "supergraph.graphql", drop_line=EMAIL_LINE)
    gateway = await GatewayProcess(path, tmp_path / "gateway.log", workers=2).start()
    try:
        write_atomically(path, "type Query { this is not a supergraph")
        gateway.signal(signal.SIGHUP)
        # the supervisor and each worker say so
        await gateway.wait_for_log("supergraph reload refused", times=3)
        answers = [await _fresh(gateway, NAME) for _ in range(10)]
        assert answers == [{"data": {"me": {"name": "Ada Lovelace"}}}] * 10
        assert (await _fresh(gateway, EMAIL))["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"

        # and a good one after it is taken
        supergraph_for(shop, path)
        gateway.signal(signal.SIGHUP)
        await gateway.wait_for_log("supergraph reloaded", times=2)
        assert [await _fresh(gateway, EMAIL) for _ in range(10)] == [{"data": {"me": {"email": "ada@example.test"}}}] * 10
    finally:
        assert await gateway.stop() == 0


async def test_a_request_in_flight_finishes_on_the_supergraph_it_started_on(shop: Shop, tmp_path: Path) -> None:
    path = supergraph_for(shop, tmp_path / "supergraph.graphql")  # with `email`
    old = Gateway(load_supergraph_file(path), PipelineOptions(subgraphs=SubgraphSettings(timeout_seconds=10)))
    closed: list[Gateway] = []
    close = old.aclose

    async def recording_close() -> None:
        closed.append(old)
        await close()

    old.aclose = recording_close  # type: ignore[method-assign]
    gateway = ReloadableGateway(old, path)
    accounts = shop.subgraphs["accounts"]
    accounts.delay = 0.5
    in_flight = asyncio.create_task(gateway.execute(GraphQLRequest(query="{ me { email } }")))
    while not accounts.requests:
        await asyncio.sleep(0.01)

    supergraph_for(shop, path, drop_line=EMAIL_LINE)  # the new supergraph has no `email`
    assert await gateway.reload()
    accounts.delay = 0.0
    refused = await gateway.execute(GraphQLRequest(query="{ me { email } }"))
    assert refused.body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert closed == []  # the old one still has a request to finish

    finished = await in_flight
    assert finished.body == {"data": {"me": {"email": "ada@example.test"}}}
    await asyncio.sleep(0)  # its connections are closed in a task of their own
    await asyncio.sleep(0)
    assert closed == [old]
    await gateway.aclose()


@pytest.mark.parametrize("workers", [2, 1])
async def test_with_watch_a_new_supergraph_file_is_taken_without_a_signal(
    shop: Shop, tmp_path: Path, workers: int
) -> None:
    path = supergraph_for(shop, tmp_path / "supergraph.graphql", drop_line=EMAIL_LINE)
    gateway = await GatewayProcess(
        path, tmp_path / "gateway.log", workers=workers, env={"ABG_GATEWAY_WATCH_SUPERGRAPH": "true"}
    ).start()
    try:
        assert (await _fresh(gateway, EMAIL))["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        supergraph_for(shop, path)  # renamed over the old file, as a deployment would
        await gateway.wait_for_log("supergraph reloaded", times=workers)
        assert [await _fresh(gateway, EMAIL) for _ in range(10)] == [{"data": {"me": {"email": "ada@example.test"}}}] * 10
    finally:
        assert await gateway.stop() in ((0,) if workers > 1 else (0, -signal.SIGTERM))
