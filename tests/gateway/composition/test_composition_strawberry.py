"""The SDL our strawberry subgraphs serve (federation 2.9) composes, and the reference composers agree."""

from __future__ import annotations

import pytest
from composition_support import canonical_sdl, directives_on, run_reference_tools, type_names
from strawberry_subgraphs import members_schema, points_schema, service_sdl

from gateway.composition import SubgraphSource, compose


def _sources() -> list[SubgraphSource]:
    return [
        SubgraphSource("members", "http://members:8000/graphql", service_sdl(members_schema)),
        SubgraphSource("points", "http://points:8000/graphql", service_sdl(points_schema)),
    ]


def test_strawberry_sdl_uses_federation_2_9() -> None:
    sdl = service_sdl(members_schema)
    assert 'url: "https://specs.apollo.dev/federation/v2.9"' in sdl
    assert "_entities" in sdl


def test_strawberry_subgraphs_compose() -> None:
    result = compose(_sources())
    assert result.errors == []
    sdl = result.supergraph_sdl
    assert sdl is not None
    # federation 2.9 subgraphs get the join spec that can express everything 2.9 can.
    assert '@link(url: "https://specs.apollo.dev/join/v0.5", for: EXECUTION)' in sdl
    # Subgraph plumbing does not leak into the supergraph.
    assert not {"_Any", "_Entity", "_Service"} & type_names(sdl)
    assert "_entities" not in sdl and "_service" not in sdl
    # strawberry names the points mutation type PointsMutation: the supergraph uses the default root name.
    assert "mutation: Mutation" in sdl and "PointsMutation" not in sdl
    assert directives_on(sdl, "Member") == [
        '@join__type(graph: MEMBERS, key: "id")',
        '@join__type(graph: POINTS, key: "id")',
    ]
    assert directives_on(sdl, "Member", "greeting") == ['@join__field(graph: POINTS, requires: "displayName")']
    assert directives_on(sdl, "Member", "displayName") == [
        "@join__field(graph: MEMBERS)",
        "@join__field(graph: POINTS, external: true)",
    ]
    assert directives_on(sdl, "Member", "internalNote") == ["@inaccessible", "@join__field(graph: MEMBERS)"]
    assert directives_on(sdl, "Query", "benefits") == ["@join__field(graph: MEMBERS)", "@authenticated"]
    assert directives_on(sdl, "Member", "balance") == [
        '@join__field(graph: MEMBERS, overrideLabel: "percent(10)")',
        '@join__field(graph: POINTS, override: "members", overrideLabel: "percent(10)")',
    ]
    assert directives_on(sdl, "Partner") == ['@join__type(graph: POINTS, key: "id", resolvable: false)']


@pytest.mark.node
def test_reference_composers_agree_on_strawberry_subgraphs() -> None:
    payload = [{"name": s.name, "url": s.url, "sdl": s.sdl} for s in _sources()]
    apollo = run_reference_tools({"op": "compose", "scenarios": {"strawberry": payload}})["strawberry"]
    guild = run_reference_tools({"op": "guild-compose", "scenarios": {"strawberry": payload}})["strawberry"]
    ours = compose(_sources()).supergraph_sdl
    assert ours is not None
    assert canonical_sdl(ours) == canonical_sdl(apollo["supergraphSdl"])
    # The Guild's composer accepts the same subgraphs (it supports federation up to 2.9).
    assert "supergraphSdl" in guild, guild
    checks = run_reference_tools(
        {"op": "check", "supergraphs": {"ours": ours, "guild": guild["supergraphSdl"]}, "queries": {}}
    )
    # Its supergraph and ours describe the same API to Apollo's gateway.
    assert canonical_sdl(checks["ours"]["guildApiSchema"], False) == canonical_sdl(
        checks["guild"]["guildApiSchema"], False
    )
    assert checks["ours"]["hiveTypes"] == checks["guild"]["hiveTypes"]
