"""@authenticated, @requiresScopes and @policy enforced at the gateway: what the caller may not see
is taken out of the plan (no subgraph is asked for it), answered null with an
UNAUTHORIZED_FIELD_OR_TYPE error at its path, and the rest of the operation runs."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from gateway.execution.pipeline import Gateway
from gateway.http.auth import caller_of, scopes_of
from gateway.planning.authorization import Caller
from gateway.planning.plan import QueryPlan
from shared.auth.principals import ANONYMOUS, Principal, PrincipalKind
from gateway.supergraph import load_supergraph
from tests.gateway.kit.club import Club, run, sources, supergraph_sdl

MEMBER = caller_of(Principal(PrincipalKind.MEMBER, "3f1c2e8a-0000-4000-8000-000000000001"))
PARTNER = caller_of(Principal(PrincipalKind.PARTNER, "3f1c2e8a-0000-4000-8000-0000000000aa"))
OPERATOR = caller_of(Principal(PrincipalKind.STAFF, "ops-1", frozenset({"operator"})))
SUPPORT = caller_of(Principal(PrincipalKind.STAFF, "cs-1", frozenset({"customer_service"})))
POINTS_SERVICE = caller_of(Principal(PrincipalKind.SERVICE, "points"))
NOBODY = caller_of(ANONYMOUS)


def _unauthorized(path: list[object]) -> dict[str, object]:
    return {"message": "Unauthorized field or type", "path": path, "extensions": {"code": "UNAUTHORIZED_FIELD_OR_TYPE"}}


@pytest.fixture
async def gateway(club: Club) -> AsyncIterator[Gateway]:
    club.reset()
    gateway = club.gateway(policies={"read_pii": lambda caller: "operator" in caller.scopes})
    yield gateway
    await gateway.aclose()


def _subgraphs(plan: QueryPlan) -> list[str]:
    return [fetch.subgraph for fetch in plan.fetches]


# ---- the scope mapping ----------------------------------------------------------------------


def test_tokens_map_to_scopes_by_kind_roles_and_service_name() -> None:
    assert scopes_of(ANONYMOUS) == frozenset()
    assert MEMBER.scopes == {"member"} and MEMBER.authenticated
    assert PARTNER.scopes == {"partner"}
    assert OPERATOR.scopes == {"staff", "operator"}
    assert SUPPORT.scopes == {"staff", "customer_service"}
    assert POINTS_SERVICE.scopes == {"service", "service:points"}
    assert not NOBODY.authenticated


@pytest.mark.node
def test_apollos_composer_carries_the_same_rules_into_the_supergraph() -> None:
    from federation_compose import compose as reference_compose

    said = reference_compose([{"name": s.name, "url": s.url, "sdl": s.sdl} for s in sources()])["apollo"]
    assert said["ok"], said["errors"]
    ours = load_supergraph(supergraph_sdl()).access
    assert ours.fields and ours.types  # the scenario does carry rules
    assert load_supergraph(said["supergraphSdl"]).access == ours


# ---- planning -------------------------------------------------------------------------------


def test_a_refused_field_gets_no_fetch(gateway: Gateway) -> None:
    query = "{ members { id name balance } }"
    assert _subgraphs(gateway.plan(query, caller=OPERATOR)) == ["accounts", "points"]
    assert _subgraphs(gateway.plan(query, caller=PARTNER)) == ["accounts"]
    assert "balance" not in gateway.plan(query, caller=PARTNER).fetches[0].document


def test_a_refused_root_field_leaves_only_the_others(gateway: Gateway) -> None:
    plan = gateway.plan("{ me { id } members { id } }", caller=NOBODY)
    assert [fetch.document for fetch in plan.fetches] == ["query { members { id } }"]
    assert gateway.plan("{ me { id } }", caller=NOBODY).fetches == ()


def test_a_selection_emptied_by_refusals_still_asks_typename(gateway: Gateway) -> None:
    plan = gateway.plan("{ member(id: \"m1\") { phone notes } }", caller=MEMBER)
    assert _subgraphs(plan) == ["accounts"]
    document = plan.fetches[0].document
    assert "phone" not in document and "notes" not in document and "__typename" in document


def test_plans_are_cached_per_grants(gateway: Gateway) -> None:
    query = "{ members { balance } }"
    assert _subgraphs(gateway.plan(query, caller=NOBODY)) == ["accounts"]
    assert _subgraphs(gateway.plan(query, caller=MEMBER)) == ["accounts", "points"]
    assert _subgraphs(gateway.plan(query, caller=NOBODY)) == ["accounts"]


# ---- execution ------------------------------------------------------------------------------


async def test_authenticated_needs_a_verified_caller(club: Club, gateway: Gateway) -> None:
    refused = await run(gateway, "{ me { name } members { name } }", NOBODY)
    assert refused == {"errors": [_unauthorized(["me"])], "data": {"me": None, "members": [{"name": "Ada"}, {"name": "Bo"}]}}
    club.reset()
    allowed = await run(gateway, "{ me { name } }", PARTNER)
    assert allowed == {"data": {"me": {"name": "Ada"}}}


async def test_scopes_are_an_or_of_ands(gateway: Gateway) -> None:
    query = '{ member(id: "m1") { notes } audit { what } }'
    operator = await run(gateway, query, OPERATOR)
    assert operator == {"data": {"member": {"notes": "prefers vouchers"}, "audit": [{"what": "tier policy changed"}]}}
    # customer service is one alternative for notes, but audit needs staff AND operator
    support = await run(gateway, query, SUPPORT)
    assert support == {"errors": [_unauthorized(["audit"])], "data": {"member": {"notes": "prefers vouchers"}, "audit": None}}
    member = await run(gateway, query, MEMBER)
    assert member["data"] == {"member": {"notes": None}, "audit": None}
    assert [e["path"] for e in member["errors"]] == [["member", "notes"], ["audit"]]


async def test_a_refused_field_is_not_asked_of_its_subgraph(club: Club, gateway: Gateway) -> None:
    body = await run(gateway, "{ members { id history { amount } } }", NOBODY)
    assert body == {
        "errors": [_unauthorized(["members", "@", "history"])],
        "data": {"members": [{"id": "m1", "history": None}, {"id": "m2", "history": None}]},
    }
    assert club.requests() == {"accounts": 1}
    club.reset()
    signed_in = await run(gateway, "{ members { id history { amount } } }", MEMBER)
    assert signed_in["data"]["members"][0]["history"] == [{"amount": 100}, {"amount": 20}]
    assert club.requests() == {"accounts": 1, "points": 1}


async def test_a_refused_non_null_field_nulls_its_parent(club: Club, gateway: Gateway) -> None:
    body = await run(gateway, '{ member(id: "m1") { name balance } }', PARTNER)
    # balance is Int!: the member becomes null, and the refusal is the only error
    assert body == {"errors": [_unauthorized(["member", "balance"])], "data": {"member": None}}
    assert club.requests() == {"accounts": 1}


async def test_null_bubbles_through_lists_to_data(gateway: Gateway) -> None:
    # members: [Member!]! and balance: Int!, so nothing nullable stands between them and data
    body = await run(gateway, "{ members { balance } }", PARTNER)
    assert body == {"errors": [_unauthorized(["members", "@", "balance"])], "data": None}


async def test_a_refused_mutation_is_not_run(club: Club, gateway: Gateway) -> None:
    mutation = 'mutation { resetPoints(memberId: "m1") }'
    body = await run(gateway, mutation, MEMBER)
    assert body == {"errors": [_unauthorized(["resetPoints"])], "data": {"resetPoints": None}}
    assert club.requests() == {}
    assert await run(gateway, mutation, OPERATOR) == {"data": {"resetPoints": True}}
    assert club.requests() == {"points": 1}


async def test_a_fragment_on_a_refused_type_is_refused(club: Club, gateway: Gateway) -> None:
    query = "{ search { __typename ... on PublicThing { label } ... on SecretThing { code } } }"
    member = await run(gateway, query, MEMBER)
    assert member == {
        "errors": [_unauthorized(["search", "@"])],
        # code is String!: the secret item itself becomes null
        "data": {"search": [{"__typename": "PublicThing", "label": "catalogue"}, None]},
    }
    assert "code" not in club.subgraphs["accounts"].requests[0]["query"]
    operator = await run(gateway, query, OPERATOR)
    assert operator["data"]["search"][1] == {"__typename": "SecretThing", "code": "s3cret"}
    assert "errors" not in operator


async def test_asking_through_an_interface_does_not_get_round_a_type_rule(club: Club, gateway: Gateway) -> None:
    # composition puts SecretThing's requirement on Thing, so a list of things is for operators
    assert club.supergraph.access.of_type("Thing").scopes == ((frozenset({"operator"}),),)
    body = await run(gateway, "{ things { id } members { id } }", MEMBER)
    assert body == {"errors": [_unauthorized(["things"])], "data": {"things": None, "members": [{"id": "m1"}, {"id": "m2"}]}}
    operator = await run(gateway, "{ things { id } }", OPERATOR)
    assert operator == {"data": {"things": [{"id": "t1"}, {"id": "t2"}]}}


async def test_policies_are_named_python_functions(club: Club, gateway: Gateway) -> None:
    query = '{ member(id: "m1") { name phone } }'
    assert await run(gateway, query, OPERATOR) == {"data": {"member": {"name": "Ada", "phone": "+86 138 0000 0001"}}}
    assert await run(gateway, query, SUPPORT) == {
        "errors": [_unauthorized(["member", "phone"])],
        "data": {"member": {"name": "Ada", "phone": None}},
    }
    seen: list[Caller] = []
    watching = club.gateway(policies={"read_pii": lambda caller: seen.append(caller) or True})
    try:
        assert (await run(watching, query, SUPPORT))["data"]["member"]["phone"] == "+86 138 0000 0001"
        assert seen and seen[0].principal.roles == {"customer_service"}
    finally:
        await watching.aclose()


def _failing_policy(caller: Caller) -> bool:
    raise RuntimeError("policy store down")


@pytest.mark.parametrize("policies", [{}, {"read_pii": _failing_policy}], ids=["unregistered", "failing"])
async def test_a_policy_that_cannot_say_yes_refuses(club: Club, policies: dict) -> None:
    gateway = club.gateway(policies=policies)
    try:
        body = await run(gateway, '{ member(id: "m1") { phone } }', OPERATOR)
        assert body == {"errors": [_unauthorized(["member", "phone"])], "data": {"member": {"phone": None}}}
    finally:
        await gateway.aclose()


async def test_without_a_known_caller_the_gateway_treats_the_request_as_anonymous(gateway: Gateway) -> None:
    body = await run(gateway, "{ me { name } }", None)
    assert body == {"errors": [_unauthorized(["me"])], "data": {"me": None}}


def test_plans_for_no_particular_caller_show_the_whole_operation(gateway: Gateway) -> None:
    # what the CLI prints: every field, as an operator would get it
    assert _subgraphs(gateway.plan("{ members { balance } me { id } }")) == ["accounts", "points"]
