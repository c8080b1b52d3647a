"""The access directives on our own subgraphs say what the subgraphs themselves decide.

Our services are composed (as for production); for every field that carries @authenticated,
@requiresScopes or @policy, each kind of caller is put to the gateway's directive-based check
and to the owning subgraph's own resolver (run straight on its schema, with a database that
records being reached instead of answering: a caller the resolver refuses never gets there).
The two must agree for every caller.
"""

from __future__ import annotations

from typing import Any

import pytest

from abg.services import SERVICES, get_service
from gateway.composition import SubgraphSource, compose
from gateway.execution.pipeline import Gateway
from gateway.http.auth import caller_of
from gateway.planning.authorization import grants_for, satisfied
from gateway.supergraph import Supergraph, load_supergraph
from shared.auth.principals import ANONYMOUS, Principal, PrincipalKind
from shared.federation.context import Context

CALLERS: dict[str, Principal] = {
    "anonymous": ANONYMOUS,
    "member": Principal(PrincipalKind.MEMBER, "3f1c2e8a-0000-4000-8000-000000000001"),
    "partner": Principal(PrincipalKind.PARTNER, "3f1c2e8a-0000-4000-8000-0000000000aa"),
    "customer service": Principal(PrincipalKind.STAFF, "cs-1", frozenset({"customer_service"})),
    "operator": Principal(PrincipalKind.STAFF, "ops-1", frozenset({"operator"})),
    **{f"service {s.name}": Principal(PrincipalKind.SERVICE, s.name) for s in SERVICES},
}

# Each annotated field: the subgraph that owns it and a document asking for it alone.
DOCUMENTS: dict[tuple[str, str], tuple[str, str]] = {
    ("Query", "me"): ("members", "{ me { id } }"),
    ("Query", "memberCount"): ("members", "{ memberCount }"),
    ("Query", "tierPolicy"): ("members", "{ tierPolicy { version } }"),
    ("Query", "tierPolicyHistory"): ("members", "{ tierPolicyHistory { version } }"),
}


class _Reached(Exception):
    pass


class _RecordingDatabase:
    """Stands in for the service's database: any use means the resolver let the caller through."""

    def __init__(self) -> None:
        self.reached = False

    def __getattr__(self, name: str) -> Any:
        self.reached = True
        raise _Reached(name)


def _sources() -> list[SubgraphSource]:
    sources = []
    for service in SERVICES:
        result = service.federation_schema().execute_sync("{ _service { sdl } }")
        assert result.errors is None, result.errors
        sources.append(SubgraphSource(service.name, f"http://{service.name}:8000/graphql", result.data["_service"]["sdl"]))
    return sources


@pytest.fixture(scope="module")
def supergraph() -> Supergraph:
    composed = compose(_sources())
    assert composed.errors == [], composed.errors
    return load_supergraph(composed.supergraph_sdl)


@pytest.mark.node
def test_the_reference_composers_carry_the_same_rules(supergraph: Supergraph) -> None:
    from federation_compose import compose as reference_compose

    said = reference_compose([{"name": s.name, "url": s.url, "sdl": s.sdl} for s in _sources()])
    for composer in ("apollo", "guild"):
        assert said[composer]["ok"], said[composer]["errors"]
        assert load_supergraph(said[composer]["supergraphSdl"]).access == supergraph.access, composer


def test_every_annotated_field_is_checked_here(supergraph: Supergraph) -> None:
    assert set(supergraph.access.fields) == set(DOCUMENTS)
    assert supergraph.access.types == {}


async def _subgraph_admits(service: str, document: str, principal: Principal) -> bool:
    database = _RecordingDatabase()
    context = Context(request=None, principal=principal, db=database)  # type: ignore[arg-type]
    result = await get_service(service).federation_schema().execute(document, context_value=context)
    codes = {(e.extensions or {}).get("code") for e in result.errors or ()}
    refused = bool(codes & {"UNAUTHENTICATED", "FORBIDDEN"})
    assert refused != database.reached, (document, principal, result.errors)
    return database.reached


@pytest.mark.parametrize("caller", list(CALLERS))
@pytest.mark.parametrize("coordinate", list(DOCUMENTS), ids=".".join)
async def test_gateway_and_subgraph_agree(supergraph: Supergraph, coordinate: tuple[str, str], caller: str) -> None:
    service, document = DOCUMENTS[coordinate]
    principal = CALLERS[caller]
    grants = grants_for(caller_of(principal), supergraph.access, {})
    gateway_admits = satisfied(supergraph.access.of_field(*coordinate), grants)
    assert gateway_admits == await _subgraph_admits(service, document, principal)


def test_the_gateway_does_not_ask_members_for_a_refused_field(supergraph: Supergraph) -> None:
    gateway = Gateway(supergraph)
    query = "{ tierPolicy { version } me { id } }"
    assert gateway.plan(query, caller=caller_of(ANONYMOUS)).fetches == ()
    partner = gateway.plan(query, caller=caller_of(CALLERS["partner"]))
    assert [f.document for f in partner.fetches] == ["query { tierPolicy { version } }"]
    member = gateway.plan(query, caller=caller_of(CALLERS["member"]))
    assert [f.subgraph for f in member.fetches] == ["members"] and "me" in member.fetches[0].document
