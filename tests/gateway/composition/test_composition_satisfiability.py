"""Satisfiability: every field of the API must be reachable from the roots through the subgraphs."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from composition_support import compose_inline, fed2, run_reference_tools


@dataclass(frozen=True)
class Case:
    id: str
    subgraphs: dict[str, str]
    unsatisfiable: tuple[str, ...] = ()  # coordinates reported (field, or type cast to), empty when it composes


CASES = [
    Case(
        "entity-jump-through-a-chain-of-keys",
        {
            "a": fed2('type Query { member: Member }\ntype Member @key(fields: "id") { id: ID! }'),
            "b": fed2('type Member @key(fields: "id") @key(fields: "phone") { id: ID! phone: String! }'),
            "c": fed2('type Member @key(fields: "phone") { phone: String! points: Int }'),
        },
    ),
    Case(
        "key-fields-fetched-from-another-subgraph",
        {
            "a": fed2(
                "type Query { list: Basket }\n"
                'type Basket @key(fields: "id") { id: ID! items: [Item!]! @shareable }\n'
                'type Item @key(fields: "id") { id: ID! }'
            ),
            "b": fed2('type Item @key(fields: "id") { id: ID! sku: String! @shareable }'),
            "c": fed2(
                'type Basket @key(fields: "items { sku }") { items: [Item!]! total: Int }\n'
                'type Item @key(fields: "sku", resolvable: false) { sku: String! }'
            ),
        },
    ),
    Case(
        "requires-satisfied-by-another-subgraph",
        {
            "a": fed2('type Query { member: Member }\ntype Member @key(fields: "id") { id: ID! tier: String }'),
            "b": fed2(
                'type Member @key(fields: "id") { id: ID! tier: String @external bonus: Int @requires(fields: "tier") }'
            ),
        },
    ),
    Case(
        "provides-is-the-only-way",
        {
            "a": fed2(
                'type Query { featured: Member @provides(fields: "name") }\n'
                'type Member @key(fields: "id", resolvable: false) { id: ID! name: String @external }'
            ),
            "b": fed2(
                'type Member @key(fields: "id", resolvable: false) { id: ID! name: String @shareable }\n'
                "type Query { x: Int }"
            ),
        },
    ),
    Case(
        "provides-on-one-path-only",
        {
            "a": fed2(
                'type Query { featured: Member @provides(fields: "name") other: Member }\n'
                'type Member @key(fields: "id", resolvable: false) { id: ID! name: String @external }'
            ),
            "b": fed2(
                'type Member @key(fields: "id", resolvable: false) { id: ID! name: String @shareable }\n'
                "type Query { x: Int }"
            ),
        },
        ("Member.name",),
    ),
    Case(
        "interface-field-answered-by-implementations-elsewhere",
        {
            "a": fed2(
                "type Query { items: [Item!]! }\n"
                "interface Item { id: ID! }\n"
                'type Voucher implements Item @key(fields: "id") { id: ID! }'
            ),
            "b": fed2(
                "interface Item { id: ID! title: String }\n"
                'type Voucher implements Item @key(fields: "id") { id: ID! title: String }'
            ),
        },
    ),
    Case(
        "union-member-known-to-one-subgraph-only",
        {
            "a": fed2('type Query { hits: [Hit!]! }\nunion Hit = Voucher\ntype Voucher @key(fields: "id") { id: ID! }'),
            "b": fed2(
                "type Query { more: [Hit!]! }\n"
                "union Hit = Voucher | Partner\n"
                'type Voucher @key(fields: "id") { id: ID! code: String }\n'
                "type Partner { name: String }"
            ),
        },
    ),
    Case(
        "value-type-fields-split",
        {
            "a": fed2("type Query { stats: Stats }\ntype Stats @shareable { count: Int }"),
            "b": fed2("type Query { other: Int }\ntype Stats @shareable { count: Int total: Int }"),
        },
        ("Stats.total",),
    ),
    Case(
        "interface-object-reaches-implementations",
        {
            "a": fed2(
                "type Query { benefits: [Benefit!]! }\n"
                'interface Benefit @key(fields: "id") { id: ID! }\n'
                'type Voucher implements Benefit @key(fields: "id") { id: ID! code: String }'
            ),
            "b": fed2(
                'type Benefit @key(fields: "id") @interfaceObject { id: ID! stock: Int }\n'
                "type Query { lowStock: [Benefit!]! }"
            ),
        },
    ),
    Case(
        "interface-object-without-interface-key",
        {
            "a": fed2(
                "type Query { benefits: [Benefit!]! }\n"
                "interface Benefit { id: ID! }\n"
                'type Voucher implements Benefit @key(fields: "id") { id: ID! code: String }'
            ),
            "b": fed2(
                'type Benefit @key(fields: "id") @interfaceObject { id: ID! stock: Int }\n'
                "type Query { lowStock: [Benefit!]! }"
            ),
        },
        ("Voucher",),
    ),
    Case(
        "mutation-result-needs-a-jump",
        {
            "a": fed2(
                "type Query { x: Int }\n"
                "type Mutation { redeem(id: ID!): Redemption }\n"
                'type Redemption @key(fields: "id") { id: ID! }'
            ),
            "b": fed2('type Redemption @key(fields: "id", resolvable: false) { id: ID! status: String }'),
        },
        ("Redemption.status",),
    ),
]


def _unsatisfiable(case: Case) -> tuple[str, ...]:
    result = compose_inline(case.subgraphs)
    assert {e.code for e in result.errors} <= {"SATISFIABILITY_ERROR"}, result.errors
    return tuple(sorted(c for e in result.errors for c in e.coordinates))


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_satisfiability(case: Case) -> None:
    assert _unsatisfiable(case) == tuple(sorted(case.unsatisfiable))


def test_error_shows_a_query_that_cannot_be_planned_and_why() -> None:
    result = compose_inline(
        {
            "a": fed2(
                "type Query { member(id: ID!, tier: Tier): Member }\n"
                "enum Tier { GOLD }\n"
                'type Member @key(fields: "id") { id: ID! }'
            ),
            "b": fed2(
                'type Member @key(fields: "id", resolvable: false) { id: ID! wallet: Wallet }\n'
                "type Wallet { points: Int }"
            ),
        }
    )
    [error] = result.errors
    assert error.message == (
        "The following supergraph API query:\n"
        "{\n"
        '  member(id: "<any id>", tier: GOLD) {\n'
        "    wallet {\n"
        "      ...\n"
        "    }\n"
        "  }\n"
        "}\n"
        "cannot be satisfied by the subgraphs because:\n"
        '- from subgraph "a":\n'
        '  - cannot find field "Member.wallet".\n'
        '  - cannot move to subgraph "b", which has field "Member.wallet", because none of the @key defined on type'
        ' "Member" in subgraph "b" are resolvable (they are all declared with their "resolvable" argument set to false).'
    )
    assert error.subgraphs == ("a",) and error.coordinates == ("Member.wallet",)


def test_satisfiability_can_be_skipped() -> None:
    from gateway.composition import SubgraphSource, compose

    case = next(c for c in CASES if c.id == "value-type-fields-split")
    sources = [SubgraphSource(n, f"http://{n}", sdl) for n, sdl in case.subgraphs.items()]
    assert compose(sources, run_satisfiability=False).ok
    assert not compose(sources).ok


@pytest.mark.node
def test_apollo_agrees_on_what_is_satisfiable() -> None:
    scenarios = {c.id: [{"name": n, "url": f"http://{n}", "sdl": s} for n, s in c.subgraphs.items()] for c in CASES}
    apollo = run_reference_tools({"op": "compose", "scenarios": scenarios})
    for case in CASES:
        codes = {e["code"] for e in apollo[case.id].get("errors", [])}
        assert codes == ({"SATISFIABILITY_ERROR"} if case.unsatisfiable else set()), case.id
