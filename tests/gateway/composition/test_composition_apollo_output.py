"""Inputs both composers accept, where our supergraph once differed from Apollo's: each case checks the text we
print, then (when the Node tools are installed) that Apollo's composer prints exactly the same supergraph."""

from __future__ import annotations

import pytest
from composition_support import as_payload, compose_inline, directives_on, fed2, run_reference_tools

from gateway.composition import SubgraphSource

CASES: dict[str, dict[str, str]] = {
    # Defaults are coerced to their type and printed back: an integer-like ID becomes an Int literal, a Float is
    # printed as JavaScript prints numbers.
    "coerced-defaults": {
        "a": fed2(
            "input Range { from: ID = \"7\" ids: [ID] = [\"1\", \"x\"] }\n"
            'type Query { offers(after: ID = "1", cursor: ID = "abc", min: Float = 1.0, max: Float = 2e3,'
            ' ratio: Float = 1.50, tiny: Float = 0.0000001, one: [ID] = "2", range: Range = {from: "3"}): Int }'
        )
    },
    # A renamed @tag keeps the subgraph's name, with a renaming import on the tag spec's @link.
    "tag-renamed": {
        "a": fed2('type Query { offers: Int @mytag(name: "public") }', "2.3", '"@key", {name: "@tag", as: "@mytag"}'),
        "b": fed2("type Query { points: Int }", "2.3", '"@tag"'),
    },
    "inaccessible-renamed": {
        "a": fed2("type Query { offers: Int @hidden points: Int }", "2.3", '{name: "@inaccessible", as: "@hidden"}'),
    },
    "tag-namespaced": {"a": fed2('type Query { offers: Int @federation__tag(name: "public") }', "2.3", '"@key"')},
    # The specs are linked in the order subgraphs (sorted by name) first use them: "a" hides, "b" tags.
    "links-in-order-of-first-use": {
        "b": fed2('type Query { offers: Int @tag(name: "public") }'),
        "a": fed2("type Query { points: Int @inaccessible secret: Int }"),
    },
    # Only @cost used: the cost spec's @listSize is defined under its namespaced name, not imported.
    "cost-without-list-size": {
        "a": fed2("type Query { offers: [Int] @cost(weight: 5) }", "2.9", '"@key", "@cost"'),
    },
    # graphql-js 16 (Apollo's) lets an implementation deprecate a field its interface does not.
    "implementation-deprecates-a-field": {
        "a": fed2(
            "type Query { rewards: [Reward] }\ninterface Reward { cost: Int }\n"
            'type Voucher implements Reward { cost: Int @deprecated(reason: "use price") price: Int }'
        )
    },
    # Access control first on fields, in the order of the specs' links (here: requiresScopes, then authenticated).
    "access-control-order": {
        "a": fed2(
            'type Query { member: Member }\ntype Member @key(fields: "id") { id: ID! tier: Int @shareable'
            ' @tag(name: "x") @requiresScopes(scopes: [["read"]]) }',
            "2.6",
            '"@key", "@shareable", "@tag", "@requiresScopes", "@authenticated"',
        ),
        "b": fed2(
            'type Member @key(fields: "id") { id: ID! tier: Int @shareable @authenticated }',
            "2.6",
            '"@key", "@shareable", "@authenticated"',
        ),
    },
    # Merged directives keep the order the subgraph wrote them in, composed and federation ones alike.
    "directives-in-written-order": {
        "a": 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@cost",'
        ' "@composeDirective"]) @link(url: "https://specs.example.com/audit/v1.0", import: ["@audit"])'
        ' @composeDirective(name: "@audit")\ndirective @audit on FIELD_DEFINITION\n'
        "type Query { offers: Int @cost(weight: 5) @audit points: Int @audit @cost(weight: 2) }"
    },
    # Apollo's check of default values does not look for required input fields left out.
    "default-leaves-out-a-required-input-field": {
        "a": fed2("input Filter { name: String! after: ID }\ntype Query { search(filter: Filter = {after: 1}): Int }")
    },
    # An @external field read through a context is used (no EXTERNAL_UNUSED).
    "external-field-read-from-a-context": {
        "a": fed2(
            'type Query { member: Member }\ntype Member @key(fields: "id") { id: ID! label: String }',
            "2.8",
            '"@key", "@shareable"',
        ),
        "b": fed2(
            'type Member @key(fields: "id") @context(name: "holder") { id: ID! label: String @external perks: [Perk] }\n'
            'type Perk @key(fields: "id") { id: ID! title(owner: String @fromContext(field: "$holder { label }")): String }',
            "2.8",
            '"@key", "@context", "@fromContext", "@external"',
        ),
    },
    # Two types set one context: one inline fragment each (a non-null String fits a String argument).
    "context-set-by-two-types": {
        "a": fed2(
            'type Query { member: Member offer: Offer }\ntype Member @key(fields: "id") @context(name: "holder")'
            " { id: ID! label: String perks: [Perk] }\n"
            'type Offer @key(fields: "id") @context(name: "holder") { id: ID! label: String! perks: [Perk] }\n'
            'type Perk @key(fields: "id") { id: ID! title(owner: String'
            ' @fromContext(field: "$holder ... on Member { label } ... on Offer { label }")): String }',
            "2.8",
            '"@key", "@context", "@fromContext"',
        )
    },
    # An overridden field still read through a context (here in a type-conditioned selection) stays usedOverridden.
    "overridden-field-read-from-a-context": {
        "a": fed2(
            'type Query { offer: Offer }\ntype Offer @key(fields: "id") { id: ID! label: String @override(from: "b") }',
            "2.8",
            '"@key", "@override"',
        ),
        "b": fed2(
            'type Member @key(fields: "id") @context(name: "holder") { id: ID! label: String perks: [Perk] }\n'
            'type Offer @key(fields: "id") @context(name: "holder") { id: ID! label: String perks: [Perk] }\n'
            'type Perk @key(fields: "id") { id: ID! title(owner: String'
            ' @fromContext(field: "$holder ... on Member { label } ... on Offer { label }")): String }',
            "2.8",
            '"@key", "@context", "@fromContext"',
        ),
    },
    # A subgraph that defines @oneOf itself: a custom directive, not kept in the supergraph.
    "oneof-defined-by-the-subgraph": {
        "a": fed2(
            "directive @oneOf on INPUT_OBJECT\n"
            "type Query { pay(with: Payment): Int }\ninput Payment @oneOf { points: Int voucher: ID }"
        )
    },
}


def _ours(name: str) -> str:
    result = compose_inline(CASES[name])
    assert result.ok, result.errors
    return result.supergraph_sdl


def test_defaults_are_printed_coerced() -> None:
    sdl = _ours("coerced-defaults")
    assert (
        'offers(after: ID = 1, cursor: ID = "abc", min: Float = 1, max: Float = 2000, ratio: Float = 1.5,'
        " tiny: Float = 1e-7, one: [ID] = 2, range: Range = {from: 3}): Int" in sdl
    )
    assert '  from: ID = 7\n  ids: [ID] = [1, "x"]\n' in sdl


def test_a_renamed_tag_keeps_its_name() -> None:
    sdl = _ours("tag-renamed")
    assert '@link(url: "https://specs.apollo.dev/tag/v0.3", import: [{name: "@tag", as: "@mytag"}])' in sdl
    assert "directive @mytag(name: String!) repeatable on" in sdl
    assert "directive @tag(" not in sdl
    assert '@mytag(name: "public")' in directives_on(sdl, "Query", "offers")


def test_a_renamed_inaccessible_keeps_its_name() -> None:
    sdl = _ours("inaccessible-renamed")
    assert 'import: [{name: "@inaccessible", as: "@hidden"}]' in sdl
    assert directives_on(sdl, "Query", "offers") == ["@hidden"]


def test_a_namespaced_tag_keeps_its_namespaced_name() -> None:
    sdl = _ours("tag-namespaced")
    assert 'import: [{name: "@tag", as: "@federation__tag"}]' in sdl
    assert '@federation__tag(name: "public")' in directives_on(sdl, "Query", "offers")


def test_specs_are_linked_in_the_order_subgraphs_first_use_them() -> None:
    sdl = _ours("links-in-order-of-first-use")
    assert sdl.index("https://specs.apollo.dev/inaccessible/") < sdl.index("https://specs.apollo.dev/tag/")


def test_unused_directives_of_a_linked_spec_go_by_their_namespaced_name() -> None:
    sdl = _ours("cost-without-list-size")
    assert '@link(url: "https://specs.apollo.dev/cost/v0.1")' in sdl
    assert "directive @cost__listSize(" in sdl
    assert "directive @listSize(" not in sdl


def test_an_implementation_may_deprecate_what_its_interface_does_not() -> None:
    assert "cost: Int @deprecated" in _ours("implementation-deprecates-a-field")


def test_access_control_comes_first_on_fields_in_link_order() -> None:
    directives = directives_on(_ours("access-control-order"), "Member", "tier")
    names = [d.split("(")[0] for d in directives if not d.startswith("@join__")]
    assert names == ["@requiresScopes", "@authenticated", "@tag"]


def test_merged_directives_keep_the_written_order() -> None:
    sdl = _ours("directives-in-written-order")
    assert directives_on(sdl, "Query", "offers") == ["@cost(weight: 5)", "@audit"]
    assert directives_on(sdl, "Query", "points") == ["@audit", "@cost(weight: 2)"]


def test_a_default_leaving_out_a_required_input_field_composes() -> None:
    assert "search(filter: Filter = {after: 1}): Int" in _ours("default-leaves-out-a-required-input-field")


def test_an_external_field_read_from_a_context_counts_as_used() -> None:
    sdl = _ours("external-field-read-from-a-context")
    assert 'contextArguments: [{context: "b__holder", name: "owner", type: "String"' in sdl


def test_a_context_set_by_two_types_is_read_with_one_fragment_each() -> None:
    assert '@context(name: "a__holder")' in directives_on(_ours("context-set-by-two-types"), "Offer")


def test_an_overridden_field_read_from_a_context_is_marked_used() -> None:
    directives = directives_on(_ours("overridden-field-read-from-a-context"), "Offer", "label")
    assert "@join__field(graph: B, usedOverridden: true)" in directives


def test_a_subgraph_defined_oneof_is_not_in_the_supergraph() -> None:
    sdl = _ours("oneof-defined-by-the-subgraph")
    assert directives_on(sdl, "Payment") == ["@join__type(graph: A)"]
    assert "@oneOf" not in sdl


@pytest.mark.node
def test_apollo_prints_the_same_supergraphs() -> None:
    sources = {
        name: [SubgraphSource(n, f"http://{n}.example/graphql", sdl) for n, sdl in subgraphs.items()]
        for name, subgraphs in CASES.items()
    }
    apollo = run_reference_tools({"op": "compose", "scenarios": {n: as_payload(s) for n, s in sources.items()}})
    for name in CASES:
        assert apollo[name].get("supergraphSdl") is not None, (name, apollo[name])
        assert _ours(name) == apollo[name]["supergraphSdl"] + "\n", name
