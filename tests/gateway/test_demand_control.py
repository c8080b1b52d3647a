"""Demand control: @cost and @listSize (federation 2.9) read from a supergraph our composer made,
priced with Apollo's static cost model, and an operation over the limit refused before any
subgraph is called."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from graphql import parse
from graphql.execution.values import get_variable_values

from gateway.composition import SubgraphSource, compose
from gateway.execution.client import SubgraphSettings
from gateway.execution.pipeline import Gateway, GraphQLRequest, PipelineOptions
from gateway.http.app import create_app
from gateway.http.limits import OperationLimits, install_limits
from gateway.http.settings import ServerSettings
from gateway.planning.authorization import Caller
from gateway.planning.cost import SlicingError, estimate_cost
from gateway.planning.operation import find_operation, normalize
from gateway.supergraph import Supergraph, load_supergraph
from tests.gateway.kit.servers import LiveServer
from tests.gateway.kit.subgraph import Subgraph

_LINK = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@cost", "@listSize"])\n'

CATALOGUE = _LINK + """
type Query {
  benefits(first: Int, last: Int): [Benefit!]! @listSize(slicingArguments: ["first", "last"])
  featured: [Benefit!]! @listSize(assumedSize: 5)
  page(first: Int = 10, after: String): BenefitPage! @listSize(slicingArguments: ["first"], sizedFields: ["items"])
  everything: [Benefit!]!
  search(filter: BenefitFilter @cost(weight: 20)): [Benefit!]! @listSize(assumedSize: 2)
}

type Mutation {
  redeem(benefitId: ID!): Boolean
}

type BenefitPage {
  items: [Benefit!]!
  total: Int!
}

type Benefit @key(fields: "id") {
  id: ID!
  title: String!
  kind: Kind!
  partner: Partner!
  codes: [String!]! @cost(weight: 3) @listSize(assumedSize: 10)
}

type Partner @cost(weight: 4) {
  id: ID!
  name: String!
}

enum Kind @cost(weight: 2) {
  VOUCHER
  VIDEO
}

input BenefitFilter {
  kind: Kind
  title: String
}
"""

STOCK = _LINK + """
type Query {
  stockAlerts: Int
}

type Benefit @key(fields: "id") {
  id: ID!
  stockValue: Int! @cost(weight: 50)
}
"""


def _sources() -> list[SubgraphSource]:
    return [
        SubgraphSource("catalogue", "http://catalogue.subgraph.test/graphql", CATALOGUE),
        SubgraphSource("stock", "http://stock.subgraph.test/graphql", STOCK),
    ]


def _compose() -> str:
    result = compose(_sources())
    assert result.errors == [], result.errors
    return result.supergraph_sdl


SUPERGRAPH = load_supergraph(_compose())


def cost(query: str, variables: dict[str, Any] | None = None, assumed_list_size: int = 1) -> int:
    document = parse(query)
    definition = find_operation(document, None)
    coerced = get_variable_values(SUPERGRAPH.api_schema, definition.variable_definitions or (), variables or {})
    assert not isinstance(coerced, list), coerced
    operation = normalize(document, None, coerced.coerced)
    return estimate_cost(SUPERGRAPH, operation, coerced.coerced, assumed_list_size)


def test_the_supergraph_carries_the_directives() -> None:
    rules = SUPERGRAPH.cost
    assert rules.linked
    assert rules.types == {"Partner": 4, "Kind": 2}
    assert rules.fields == {("Benefit", "codes"): 3, ("Benefit", "stockValue"): 50}
    assert rules.arguments == {("Query", "search", "filter"): 20}
    page = rules.list_sizes[("Query", "page")]
    assert (page.slicing_arguments, page.sized_fields, page.require_one_slicing_argument) == (("first",), ("items",), True)
    assert rules.list_sizes[("Query", "featured")].assumed_size == 5


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("{ benefits(first: 20) { id title } }", 20),  # objects 1, scalars 0, times the slice
        ("{ benefits(last: 3) { partner { name } } }", 3 * (1 + 4)),  # a type's @cost
        ("{ featured { id kind } }", 5 * (1 + 2)),  # assumedSize; an enum's @cost
        ("{ page(first: 7) { total items { id } } }", 1 + 7),  # sizedFields: the size goes to items
        ("{ page { items { id } } }", 1 + 10),  # the slicing argument's default value
        ("{ benefits(first: 2) { codes } }", 2 * (1 + 10 * 3)),  # a field's @cost and its own list size
        ("{ benefits(first: 2) { stockValue } }", 2 * (1 + 50)),  # a field of another subgraph
        ('mutation { redeem(benefitId: "b1") }', 10),
        # an argument's @cost replaces an input object's 1; the enum in it weighs its @cost too
        ("{ search(filter: { kind: VOUCHER }) { id } }", 2 + 20 + 2),
        ("{ search { id } }", 2),
        ("{ everything { __typename id } }", 1),  # no @listSize: the gateway's assumed size
        ("{ benefits(first: 4) { ... on Benefit { id partner { id } } } }", 4 * (1 + 4)),
    ],
)
def test_static_cost(query: str, expected: int) -> None:
    assert cost(query) == expected


def test_variables_size_lists_and_the_assumed_size_applies_without_listsize() -> None:
    assert cost("query($n: Int) { benefits(first: $n) { id } }", {"n": 40}) == 40
    assert cost("{ everything { id } }", assumed_list_size=25) == 25


def test_two_slicing_arguments_are_refused_where_one_is_required() -> None:
    with pytest.raises(SlicingError, match="Query.benefits"):
        cost("{ benefits(first: 2, last: 3) { id } }")


@pytest.mark.node
def test_apollos_composer_yields_the_same_rules() -> None:
    from federation_compose import compose as reference_compose

    said = reference_compose([{"name": s.name, "url": s.url, "sdl": s.sdl} for s in _sources()])["apollo"]
    assert said["ok"], said["errors"]
    assert load_supergraph(said["supergraphSdl"]).cost == SUPERGRAPH.cost


# ---- over HTTP: refused before any subgraph is called ------------------------------------------

BENEFITS = [{"id": f"b{i}", "title": f"Benefit {i}", "kind": "VOUCHER", "codes": ["c"]} for i in range(3)]


@pytest.fixture(scope="module")
async def subgraphs() -> AsyncIterator[dict[str, tuple[Subgraph, LiveServer]]]:
    catalogue = Subgraph(
        "catalogue",
        CATALOGUE,
        resolvers={"Query": {"benefits": lambda *_a, **_k: BENEFITS, "everything": lambda *_: BENEFITS}},
    )
    stock = Subgraph("stock", STOCK, references={"Benefit": lambda rep: {"id": rep["id"], "stockValue": 7}})
    served = {name: (sub, await LiveServer(sub.app()).start()) for name, sub in (("catalogue", catalogue), ("stock", stock))}
    yield served
    for _, server in served.values():
        await server.stop()


@pytest.fixture
async def client(subgraphs: dict[str, tuple[Subgraph, LiveServer]]) -> AsyncIterator[httpx.AsyncClient]:
    for sub, _ in subgraphs.values():
        sub.reset()
    urls = {name: server.url for name, (_, server) in subgraphs.items()}
    gateway = Gateway(SUPERGRAPH, PipelineOptions(subgraphs=SubgraphSettings(urls=urls, timeout_seconds=5.0)))
    settings = ServerSettings(verify_tokens=False, limits=OperationLimits(max_cost=100))
    app = create_app(gateway, settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway.test") as client:
        yield client
    await gateway.aclose()


def _sent(subgraphs: dict[str, tuple[Subgraph, LiveServer]]) -> int:
    return sum(len(sub.requests) for sub, _ in subgraphs.values())


async def test_over_the_limit_is_refused_before_any_subgraph(subgraphs: Any, client: httpx.AsyncClient) -> None:
    body = (await client.post("/graphql", json={"query": "{ benefits(first: 2) { id stockValue } }"})).json()
    assert body == {
        "errors": [
            {
                "message": "Operation cost 102 exceeds the limit of 100.",
                "extensions": {"code": "MAX_COST_EXCEEDED", "limit": 100, "found": 102},
            }
        ]
    }
    assert _sent(subgraphs) == 0


async def test_under_the_limit_runs(subgraphs: Any, client: httpx.AsyncClient) -> None:
    body = (await client.post("/graphql", json={"query": "{ benefits(first: 1) { id stockValue } }"})).json()
    assert body == {"data": {"benefits": [{"id": f"b{i}", "stockValue": 7} for i in range(3)]}}
    assert _sent(subgraphs) == 2


async def test_slicing_variables_decide(subgraphs: Any, client: httpx.AsyncClient) -> None:
    query = "query($n: Int) { benefits(first: $n) { id } }"
    refused = (await client.post("/graphql", json={"query": query, "variables": {"n": 101}})).json()
    assert refused["errors"][0]["extensions"]["code"] == "MAX_COST_EXCEEDED"
    assert _sent(subgraphs) == 0
    allowed = (await client.post("/graphql", json={"query": query, "variables": {"n": 100}})).json()
    assert "errors" not in allowed and len(allowed["data"]["benefits"]) == 3


async def test_scalars_are_free_so_the_old_field_count_no_longer_applies(client: httpx.AsyncClient) -> None:
    # 1 + 60 x 3 fields = 181 by the plain field count; 60 by the static cost model
    body = (await client.post("/graphql", json={"query": "{ benefits(first: 60) { id title __typename } }"})).json()
    assert "errors" not in body


async def test_two_slicing_arguments_get_a_typed_error(subgraphs: Any, client: httpx.AsyncClient) -> None:
    body = (await client.post("/graphql", json={"query": "{ benefits(first: 1, last: 1) { id } }"})).json()
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert _sent(subgraphs) == 0


async def test_fields_refused_to_the_caller_cost_nothing() -> None:
    sdl = (
        'extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@cost", "@requiresScopes"])\n'
        'type Query { report: Int @cost(weight: 500) @requiresScopes(scopes: [["operator"]]) }'
    )
    composed = compose([SubgraphSource("reports", "http://reports.subgraph.test/graphql", sdl)])
    assert composed.errors == [], composed.errors
    gateway = Gateway(load_supergraph(composed.supergraph_sdl))
    install_limits(gateway, OperationLimits(max_cost=100))
    try:
        anonymous = await gateway.execute(GraphQLRequest(query="{ report }"))
        assert anonymous.body["data"] == {"report": None}
        assert [e["extensions"]["code"] for e in anonymous.body["errors"]] == ["UNAUTHORIZED_FIELD_OR_TYPE"]
        operator = await gateway.execute(GraphQLRequest(query="{ report }", caller=Caller(True, frozenset({"operator"}))))
        assert operator.body["errors"][0]["extensions"] == {"code": "MAX_COST_EXCEEDED", "limit": 100, "found": 500}
    finally:
        await gateway.aclose()


async def test_a_reloaded_supergraph_brings_its_own_cost_rules() -> None:
    from gateway.serving.reload import ReloadableGateway

    def supergraph(weight: int) -> Supergraph:
        sdl = (
            'extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@cost"])\n'
            f"type Query {{ report: Int @cost(weight: {weight}) }}"
        )
        composed = compose([SubgraphSource("reports", "http://reports.subgraph.test/graphql", sdl)])
        assert composed.errors == [], composed.errors
        return load_supergraph(composed.supergraph_sdl)

    reloadable = ReloadableGateway(Gateway(supergraph(500)))
    install_limits(reloadable, OperationLimits(max_cost=100))  # type: ignore[arg-type]
    try:
        body = (await reloadable.execute(GraphQLRequest(query="{ report }"))).body
        assert body["errors"][0]["extensions"]["code"] == "MAX_COST_EXCEEDED"
        assert body["errors"][0]["extensions"]["found"] == 500
        reloadable.switch(Gateway(supergraph(5000), reloadable.options))
        body = (await reloadable.execute(GraphQLRequest(query="{ report }"))).body
        assert body["errors"][0]["extensions"]["found"] == 5000  # the new rules, not the ones installed with
    finally:
        await reloadable.aclose()
