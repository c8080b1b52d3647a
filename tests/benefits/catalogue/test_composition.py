"""The benefits SDL composes with the members and points subgraphs' (Apollo's and The Guild's
composers, and the gateway's own), `Member.eligibleBenefits` keeps its @requires, and the gateway
plans it as a members fetch followed by a benefits fetch."""

from __future__ import annotations

import pytest
from graphql import parse
from graphql.execution.values import get_variable_values

from federation_compose import compose
from gateway.composition.compose import SubgraphSource
from gateway.composition.compose import compose as compose_here
from gateway.planning import Planner, normalize, print_plan
from gateway.planning.operation import find_operation
from gateway.supergraph import load_supergraph

REQUIRES = "tier status birthdayMonth preferences { categories }"


async def sdl_of(module: str) -> str:
    schema = __import__(module, fromlist=["schema"]).schema
    result = await schema.execute("{ _service { sdl } }")
    assert result.errors is None, result.errors
    return result.data["_service"]["sdl"]


async def subgraphs() -> list[dict[str, str]]:
    return [
        {"name": name, "url": f"http://{name}:400{i}/graphql", "sdl": await sdl_of(f"services.{name}.schema")}
        for i, name in enumerate(("members", "points", "benefits"), start=1)
    ]


async def test_the_benefits_sdl_declares_the_member_facts_it_requires() -> None:
    sdl = await sdl_of("services.benefits.schema")
    print(sdl)
    assert 'type Benefit @key(fields: "id")' in sdl and 'type Partner @key(fields: "id")' in sdl
    assert f'eligibleBenefits(first: Int = null, after: String = null, category: String = null): EligibleBenefitConnection! @requires(fields: "{REQUIRES}")' in sdl
    for external in ("tier: String! @external", "status: MemberStatus! @external", "birthdayMonth: Int @external",
                     "preferences: MemberPreferences @external", "categories: [String!]! @external"):
        assert external in sdl
    members = await sdl_of("services.members.schema")
    # External enums are declared exactly as members declares them.
    block = members[members.index("enum MemberStatus"):].split("}")[0]
    assert block in sdl


@pytest.mark.node
async def test_members_points_and_benefits_compose_under_the_reference_composers() -> None:
    report = compose(await subgraphs())
    for composer in ("apollo", "guild"):
        assert report[composer]["ok"], (composer, report[composer]["errors"])
        supergraph = report[composer]["supergraphSdl"]
        assert "eligibleBenefits" in supergraph and "requires:" in supergraph and "benefitsService" in supergraph


async def test_the_gateway_composes_them_and_plans_eligible_benefits_after_the_member_facts() -> None:
    result = compose_here([SubgraphSource(**s) for s in await subgraphs()])
    assert result.ok, [str(e) for e in result.errors]
    supergraph = load_supergraph(result.require_supergraph())
    query = """query($id: ID!) { member(id: $id) { displayName eligibleBenefits(first: 5) {
      nodes { redeemable reasons benefit { title partner { id } } } } } }"""
    document = parse(query)
    operation = find_operation(document, None)
    coerced = get_variable_values(supergraph.api_schema, operation.variable_definitions or (), {"id": "m-1"})
    assert not isinstance(coerced, list), coerced
    printed = print_plan(Planner(supergraph).plan(normalize(document, None, coerced.coerced)))
    print(printed)
    members_at, benefits_at = printed.index('Fetch #0 "members"'), printed.index('Fetch #1 "benefits" at member after #0')
    assert members_at < benefits_at
    members_fetch, benefits_fetch = printed[members_at:benefits_at], printed[benefits_at:]
    facts = "tier status birthdayMonth preferences { categories }"
    assert facts in members_fetch  # fetched from members with the caller's credentials …
    assert f"... on Member {{ id {facts} }}" in benefits_fetch  # … and sent to benefits in the representation
    assert "eligibleBenefits(first: 5)" in benefits_fetch
