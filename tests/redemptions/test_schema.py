"""The redemptions subgraph through GraphQL: what each caller reads and the errors clients see."""

from __future__ import annotations

import uuid
from typing import Any

from services.redemptions.schema import schema
from shared.auth.principals import Principal, PrincipalKind
from shared.federation.context import Context

from tests.redemptions.kit import OPERATOR, World, member_principal

_REDEEM = """mutation($b: ID!, $k: String!) { redeem(benefitId: $b, idempotencyKey: $k) {
  id status code codeState points settlementMinor settlementCurrency failureReason member { id } benefit { id } partner { id }
  refundableUntil timeline { step outcome } } }"""
_MINE = """query($m: [_Any!]!) { _entities(representations: $m) { ... on Member {
  redemptions(first: 2, status: [COMPLETED, FAILED]) { edges { cursor node { id status title } } pageInfo { hasNextPage endCursor } } } } }"""


async def gql(world: World, query: str, principal: Principal, **variables: Any) -> tuple[dict[str, Any] | None, list[str]]:
    result = await schema.execute(query, variable_values=variables, context_value=Context(request=None, principal=principal, db=world.db))
    return result.data, [e.formatted.get("extensions", {}).get("code") for e in result.errors or []]


async def test_a_member_redeems_and_lists_their_redemptions_newest_first(world: World) -> None:
    partner = await world.partner()
    benefit = await world.benefit(partner, points=100, settlement=400, codes=5, refundWindowDays=7)
    member = await world.member(points=250)
    me = member_principal(member)

    data, errors = await gql(world, _REDEEM, me, b=str(benefit), k="one")
    assert not errors
    done = data["redeem"]  # type: ignore[index]
    assert (done["status"], done["codeState"], done["points"], done["settlementMinor"]) == ("COMPLETED", "ISSUED", 100, 400)
    assert done["code"] and not done["code"].startswith("•") and done["member"]["id"] == str(member)
    assert done["refundableUntil"] and done["timeline"][-1] == {"step": "COMPLETE", "outcome": "DONE"}
    for key in ("two", "three"):
        await gql(world, _REDEEM, me, b=str(benefit), k=key)  # the third fails: 50 points left

    data, errors = await gql(world, _MINE, me, m=[{"__typename": "Member", "id": str(member)}])
    assert not errors
    page = data["_entities"][0]["redemptions"]  # type: ignore[index]
    assert [e["node"]["status"] for e in page["edges"]] == ["FAILED", "COMPLETED"] and page["pageInfo"]["hasNextPage"]
    data, _ = await gql(world, _MINE.replace("first: 2", "first: 2, after: $a").replace("query($m: [_Any!]!)", "query($m: [_Any!]!, $a: String)"),
                        me, m=[{"__typename": "Member", "id": str(member)}], a=page["pageInfo"]["endCursor"])
    assert [e["node"]["id"] for e in data["_entities"][0]["redemptions"]["edges"]] == [done["id"]]  # type: ignore[index]

    # Another member may not read them; the failed one says why, typed.
    _, errors = await gql(world, _MINE, member_principal(await world.member()), m=[{"__typename": "Member", "id": str(member)}])
    assert errors == ["FORBIDDEN"]


async def test_partners_see_their_benefits_redemptions_without_the_member(world: World) -> None:
    partner = await world.partner()
    benefit = await world.benefit(partner, points=100, codes=5)
    member = await world.member(points=300)
    await world.redeem(member, benefit)
    as_partner = Principal(PrincipalKind.PARTNER, str(partner))
    query = """query($p: ID) { redemptions(partnerId: $p) { nodes { member { id } code idempotencyKey status } } }"""

    data, errors = await gql(world, query, as_partner, p=str(partner))
    assert not errors
    (seen,) = data["redemptions"]["nodes"]  # type: ignore[index]
    assert seen["member"] is None and seen["idempotencyKey"] is None and seen["code"].startswith("•")
    _, errors = await gql(world, query, Principal(PrincipalKind.PARTNER, str(member)), p=str(partner))
    assert errors == ["FORBIDDEN"]
    _, errors = await gql(world, query, as_partner, p=None)  # everything: staff only
    assert errors == ["FORBIDDEN"]
    data, errors = await gql(world, query, OPERATOR, p=None)
    assert not errors and data["redemptions"]["nodes"][0]["member"] == {"id": str(member)}  # type: ignore[index]


async def test_refusals_reach_the_client_typed(world: World) -> None:
    partner = await world.partner()
    benefit = await world.benefit(partner, points=100, codes=5)
    member = await world.member(points=300)
    me = member_principal(member)
    await gql(world, _REDEEM, me, b=str(benefit), k="k1")
    other = await world.benefit(partner, points=100, codes=5)

    assert (await gql(world, _REDEEM, me, b=str(other), k="k1"))[1] == ["IDEMPOTENCY_KEY_REUSED"]
    assert (await gql(world, _REDEEM, me, b="not-an-id", k="k2"))[1] == ["BAD_USER_INPUT"]
    assert (await gql(world, _REDEEM, Principal(PrincipalKind.ANONYMOUS), b=str(benefit), k="k3"))[1] == ["UNAUTHENTICATED"]
    data, errors = await gql(world, "{ redemptionsNeedingAttention { nodes { id } } }", OPERATOR)
    assert not errors and data == {"redemptionsNeedingAttention": {"nodes": []}}
    assert (await gql(world, "{ redemptionsNeedingAttention { nodes { id } } }", me))[1] == ["FORBIDDEN"]


async def test_redemption_entities_resolve_in_one_batch_for_who_may_see_them(world: World) -> None:
    partner = await world.partner()
    benefit = await world.benefit(partner, points=100, codes=5)
    member = await world.member(points=300)
    first, second = await world.redeem(member, benefit), await world.redeem(member, benefit)
    query = """query($r: [_Any!]!) { _entities(representations: $r) { ... on Redemption { id status points } } }"""
    ids = (first.id, second.id, uuid.uuid4())

    def refs() -> list[dict[str, str]]:  # fresh each time: execution consumes `__typename`
        return [{"__typename": "Redemption", "id": str(i)} for i in ids]

    data, errors = await gql(world, query, member_principal(member), r=refs())
    assert not errors
    assert [e and e["id"] for e in data["_entities"]] == [str(first.id), str(second.id), None]  # type: ignore[index]
    data, errors = await gql(world, query, member_principal(await world.member()), r=refs())
    assert not errors and data["_entities"] == [None, None, None]  # type: ignore[index]
