"""A small scenario whose subgraphs mark fields and types with `@authenticated`, `@requiresScopes`
and `@policy`, composed by our composer, for the gateway's access-control tests.

`accounts` owns members (a phone behind a policy, notes for operators and customer service),
`me`, audit entries (staff operators only: an AND of two scopes), and things behind an interface
and a union, one of whose implementations is for operators (composition puts its requirement on
the interface too); `points` adds each member's balance (the member
or an operator) and history (anyone signed in), and a mutation only operators may run.
"""

from __future__ import annotations

from typing import Any

from gateway.composition import SubgraphSource, compose
from gateway.execution.client import SubgraphSettings
from gateway.execution.pipeline import Gateway, GraphQLRequest, PipelineOptions
from gateway.planning.authorization import Caller, Policy
from gateway.supergraph import load_supergraph

from .scenarios import Scenario
from .servers import LiveServer
from .subgraph import Subgraph

_LINK = (
    'extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", '
    'import: ["@key", "@authenticated", "@requiresScopes", "@policy"])\n'
)

ACCOUNTS = _LINK + """
type Query {
  member(id: ID!): Member
  members: [Member!]!
  me: Member @authenticated
  audit: [AuditEntry!] @requiresScopes(scopes: [["staff", "operator"]])
  things: [Thing!]
  search: [Found]!
}

type Member @key(fields: "id") {
  id: ID!
  name: String!
  phone: String @policy(policies: [["read_pii"]])
  notes: String @requiresScopes(scopes: [["operator"], ["customer_service"]])
}

type AuditEntry {
  id: ID!
  what: String!
}

interface Thing {
  id: ID!
}

type PublicThing implements Thing {
  id: ID!
  label: String!
}

type SecretThing implements Thing @requiresScopes(scopes: [["operator"]]) {
  id: ID!
  code: String!
}

union Found = PublicThing | SecretThing
"""

POINTS = _LINK + """
type Query {
  ledgerSize: Int
}

type Mutation {
  resetPoints(memberId: ID!): Boolean @requiresScopes(scopes: [["operator"]])
}

type Member @key(fields: "id") {
  id: ID!
  balance: Int! @requiresScopes(scopes: [["member"], ["operator"]])
  history: [Entry!] @authenticated
}

type Entry {
  amount: Int!
}
"""

MEMBERS = {
    "m1": {"id": "m1", "name": "Ada", "phone": "+86 138 0000 0001", "notes": "prefers vouchers"},
    "m2": {"id": "m2", "name": "Bo", "phone": None, "notes": None},
}
BALANCES = {"m1": 120, "m2": 5}
THINGS = [
    {"__typename": "PublicThing", "id": "t1", "label": "catalogue"},
    {"__typename": "SecretThing", "id": "t2", "code": "s3cret"},
]


def sources() -> list[SubgraphSource]:
    return [
        SubgraphSource("accounts", "http://accounts.subgraph.test/graphql", ACCOUNTS),
        SubgraphSource("points", "http://points.subgraph.test/graphql", POINTS),
    ]


def supergraph_sdl() -> str:
    result = compose(sources())
    assert result.errors == [], result.errors
    return result.supergraph_sdl


def _points_entity(rep: dict[str, Any]) -> dict[str, Any]:
    return {"id": rep["id"], "balance": BALANCES[rep["id"]], "history": [{"amount": 100}, {"amount": 20}]}


class Club(Scenario):
    """Serves like the other scenarios; its supergraph is composed here, not read from a file."""

    def __init__(self) -> None:  # not Scenario's: nothing to read from the fixtures folder
        self.supergraph = load_supergraph(supergraph_sdl())
        self.subgraphs = {
            "accounts": Subgraph(
                "accounts",
                ACCOUNTS,
                resolvers={
                    "Query": {
                        "member": lambda _r, _i, id: MEMBERS.get(id),
                        "members": lambda *_: list(MEMBERS.values()),
                        "me": lambda *_: MEMBERS["m1"],
                        "audit": lambda *_: [{"id": "a1", "what": "tier policy changed"}],
                        "things": lambda *_: THINGS,
                        "search": lambda *_: THINGS,
                    }
                },
                references={"Member": lambda rep: MEMBERS.get(rep["id"])},
            ),
            "points": Subgraph(
                "points",
                POINTS,
                resolvers={"Mutation": {"resetPoints": lambda *_a, **_k: True}},
                references={"Member": _points_entity},
            ),
        }
        self.servers: dict[str, LiveServer] = {}

    def gateway(self, policies: dict[str, Policy] | None = None) -> Gateway:  # type: ignore[override]
        options = PipelineOptions(
            subgraphs=SubgraphSettings(urls=self.urls, timeout_seconds=5.0), policies=policies or {}
        )
        return Gateway(self.supergraph, options)


async def run(gateway: Gateway, query: str, caller: Caller | None = None) -> dict[str, Any]:
    response = await gateway.execute(GraphQLRequest(query=query, caller=caller))
    return response.body
