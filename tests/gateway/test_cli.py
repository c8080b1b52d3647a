"""The command line: `serve` as a user runs it (a real process on a port), `plan`, `api-schema`."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import httpx
import pytest

from gateway.cli import main
from tests.gateway.kit.scenarios import FIXTURES, Shop
from live_services import free_port


def _supergraph_for(shop: Shop, directory: Path) -> Path:
    sdl = (FIXTURES / "shop" / "supergraph.graphql").read_text()
    for name, url in shop.urls.items():
        sdl = sdl.replace(f"http://{name}.subgraph.test/graphql", url)
    path = directory / "supergraph.graphql"
    path.write_text(sdl)
    return path


@pytest.mark.timeout(60)
async def test_serve_command_answers_over_http_and_stops_on_sigterm(shop: Shop, tmp_path: Path) -> None:
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gateway",
        "serve",
        "--supergraph",
        str(_supergraph_for(shop, tmp_path)),
        "--port",
        str(port),
        "--log-level",
        "warning",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            for _ in range(200):
                try:
                    if (await client.get("/health")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.05)
            response = await client.post("/graphql", json={"query": "{ me { name reviews { product { name } } } }"})
        assert response.json() == {
            "data": {
                "me": {"name": "Ada Lovelace", "reviews": [{"product": {"name": "Table"}}, {"product": {"name": "Couch"}}]}
            }
        }
    finally:
        process.terminate()
        output, _ = await asyncio.wait_for(process.communicate(), 20)
    # uvicorn shuts down cleanly, then re-raises SIGTERM so the exit status says why it stopped
    assert process.returncode in (0, -15), output.decode()
    assert b"Traceback" not in output


def test_plan_command_prints_the_plan(capsys: pytest.CaptureFixture[str]) -> None:
    supergraph = str(FIXTURES / "shop" / "supergraph.graphql")
    assert main(["plan", "--supergraph", supergraph, "{ me { name reviews { body } } }"]) == 0
    printed = capsys.readouterr().out
    assert 'Fetch #0 "accounts"' in printed and 'Fetch #1 "reviews" at me after #0' in printed


def test_plan_command_reports_what_cannot_be_planned(capsys: pytest.CaptureFixture[str]) -> None:
    supergraph = str(FIXTURES / "shop" / "supergraph.graphql")
    assert main(["plan", "--supergraph", supergraph, "{ me { nope } }"]) == 1
    assert "nope" in capsys.readouterr().err


def test_api_schema_command_hides_the_machinery(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["api-schema", "--supergraph", str(FIXTURES / "catalog" / "supergraph.graphql")]) == 0
    printed = capsys.readouterr().out
    assert "type Book implements Media & Node" in printed
    assert "join__" not in printed and "isbn" not in printed and "EBOOK" not in printed


def test_a_missing_supergraph_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="cannot load supergraph"):
        main(["plan", "--supergraph", str(tmp_path / "missing.graphql"), "{ a }"])


def test_supergraph_command_composes_subgraph_files(tmp_path: Path) -> None:
    names = ["accounts", "inventory", "legacy", "products", "reviews"]
    argv = ["supergraph"]
    for name in names:
        argv += ["-s", f"{name}={FIXTURES / 'shop' / f'{name}.graphql'}"]
        argv += ["--routing-url", f"{name}=http://{name}.subgraph.test/graphql"]
    out = tmp_path / "supergraph.graphql"
    assert main([*argv, "-o", str(out)]) == 0
    assert out.read_text().strip() == (FIXTURES / "shop" / "supergraph.graphql").read_text().strip()


def test_supergraph_command_reports_composition_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "broken.graphql"
    broken.write_text('extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])\n'
                      'type Query { me: User }\ntype User @key(fields: "nope") { id: ID! }\n')
    assert main(["supergraph", "-s", f"broken={broken}", "--routing-url", "broken=http://b/graphql"]) == 1
    assert "nope" in capsys.readouterr().err
