"""The gateway in front of strawberry subgraphs, the stack the project's services are built on."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from gateway.execution.client import SubgraphSettings
from gateway.execution.pipeline import Gateway, PipelineOptions
from gateway.supergraph import load_supergraph_file
from tests.gateway.kit import strawberry_subgraphs
from tests.gateway.kit.scenarios import FIXTURES, run
from tests.gateway.kit.servers import LiveServer


@pytest.fixture(scope="module")
async def gateway() -> AsyncIterator[Gateway]:
    servers = {name: await LiveServer(strawberry_subgraphs.app(name)).start() for name in strawberry_subgraphs.SCHEMAS}
    supergraph = load_supergraph_file(FIXTURES / "strawberry" / "supergraph.graphql")
    urls = {name: server.url for name, server in servers.items()}
    gateway = Gateway(supergraph, PipelineOptions(subgraphs=SubgraphSettings(urls=urls)))
    yield gateway
    await gateway.aclose()
    for server in servers.values():
        await server.stop()


def test_stored_sdls_match_what_strawberry_prints() -> None:
    for name, schema in strawberry_subgraphs.SCHEMAS.items():
        printed = schema.execute_sync("{ _service { sdl } }").data["_service"]["sdl"]  # type: ignore[index]
        assert (FIXTURES / "strawberry" / f"{name}.graphql").read_text().strip() == printed.strip()


async def test_entities_and_requires_through_strawberry(gateway: Gateway) -> None:
    strawberry_subgraphs.seen_representations.clear()
    body = await run(gateway, "{ wallets { points owner { name balance greeting } } }")
    assert body == {
        "data": {
            "wallets": [
                {"points": 120, "owner": {"name": "Ada", "balance": 120, "greeting": "Hello Ada, you have 120 points"}},
                {"points": 45, "owner": {"name": "Grace", "balance": 45, "greeting": "Hello Grace, you have 45 points"}},
            ]
        }
    }
    # the greeting's fetch carried the name that @requires asked for
    assert ["m1", "Ada"] in strawberry_subgraphs.seen_representations


async def test_root_field_of_one_strawberry_subgraph_joined_with_the_other(gateway: Gateway) -> None:
    body = await run(gateway, '{ member(id: "m2") { name balance } }')
    assert body == {"data": {"member": {"name": "Grace", "balance": 45}}}
