"""The members subgraph's SDL composes under Apollo's and The Guild's composers (Node tools)."""

from __future__ import annotations

import httpx
import pytest

from federation_compose import compose

# How another subgraph (points, say) would refer to members without resolving them.
REFERRING_SUBGRAPH = """
extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])

type Member @key(fields: "id", resolvable: false) {
  id: ID!
}

type Balance {
  member: Member!
  available: Int!
}

type Query {
  balance(memberId: ID!): Balance
}
"""


@pytest.mark.node
async def test_the_members_sdl_composes_under_both_composers(client: httpx.AsyncClient) -> None:
    sdl = (await client.post("/graphql", json={"query": "{ _service { sdl } }"})).json()["data"]["_service"]["sdl"]
    print(sdl)
    assert 'type Member @key(fields: "id")' in sdl
    members = {"name": "members", "url": "http://members:4001/graphql", "sdl": sdl}
    alone = compose([members])
    for composer in ("apollo", "guild"):
        assert alone[composer]["ok"], (composer, alone[composer]["errors"])
        assert "type Member" in alone[composer]["supergraphSdl"]
    together = compose([members, {"name": "points", "url": "http://points:4002/graphql", "sdl": REFERRING_SUBGRAPH}])
    for composer in ("apollo", "guild"):
        assert together[composer]["ok"], (composer, together[composer]["errors"])
        supergraph = together[composer]["supergraphSdl"]
        assert "tierProgress" in supergraph and "balance(" in supergraph


@pytest.mark.node
def test_a_broken_sdl_is_reported_not_passed() -> None:
    """The check itself can fail: an entity key on a field that does not exist."""
    broken = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])\n' \
        'type Member @key(fields: "memberId") { id: ID! }\ntype Query { m: Member }'
    report = compose([{"name": "members", "url": "http://members/graphql", "sdl": broken}])
    assert not report["apollo"]["ok"] and not report["guild"]["ok"]
