"""Our own subgraphs (every service the launcher lists) compose, and exactly as Apollo's composer composes them."""

from __future__ import annotations

import pytest
from composition_support import canonical_sdl, run_reference_tools

from abg.services import SERVICES
from gateway.composition import SubgraphSource, compose


def _service_sources() -> list[SubgraphSource]:
    sources = []
    for service in SERVICES:
        result = service.federation_schema().execute_sync("{ _service { sdl } }")
        assert result.errors is None, result.errors
        name = service.name
        sources.append(SubgraphSource(name, f"http://{name}:8000/graphql", result.data["_service"]["sdl"]))
    if not sources:
        pytest.skip("no service schema to compose yet")
    return sources


def test_services_compose() -> None:
    sources = _service_sources()
    result = compose(sources)
    assert result.errors == []
    for s in sources:
        assert f'@join__graph(name: "{s.name}", url: "{s.url}")' in result.supergraph_sdl


@pytest.mark.node
def test_services_compose_as_with_apollo() -> None:
    sources = _service_sources()
    payload = [{"name": s.name, "url": s.url, "sdl": s.sdl} for s in sources]
    apollo = run_reference_tools({"op": "compose", "scenarios": {"services": payload}})["services"]
    assert "supergraphSdl" in apollo, apollo
    assert canonical_sdl(compose(sources).supergraph_sdl) == canonical_sdl(apollo["supergraphSdl"])
