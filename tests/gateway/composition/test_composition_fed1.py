"""Federation 1 subgraphs (`extend type`, no @link) are read with federation 1 meaning, as Apollo upgrades them."""

from __future__ import annotations

from composition_support import compose_inline, directives_on, fed2

OWNER = """
type Query { member(id: ID!): Member }
type Member @key(fields: "id") { id: ID! name: String address: Address }
type Address { city: String }
"""


def test_extension_key_fields_marked_external_are_resolved_locally() -> None:
    result = compose_inline(
        {
            "members": OWNER,
            "points": 'extend type Member @key(fields: "id") { id: ID! @external points: Int }',
        }
    )
    assert result.ok, result.errors
    sdl = result.supergraph_sdl
    # `id` is not external in points (fed1 meaning): no join__field is needed for it at all.
    assert directives_on(sdl, "Member", "id") == []
    # ... and the extension is a plain definition once upgraded.
    assert directives_on(sdl, "Member") == [
        '@join__type(graph: MEMBERS, key: "id")',
        '@join__type(graph: POINTS, key: "id")',
    ]


def test_value_types_and_fields_may_be_shared_without_shareable() -> None:
    fed1 = compose_inline(
        {
            "members": OWNER,
            "wallet": 'extend type Member @key(fields: "id") { id: ID! @external address: Address }\ntype Address { city: String }',
        }
    )
    assert fed1.ok, fed1.errors
    assert directives_on(fed1.supergraph_sdl, "Address") == [
        "@join__type(graph: MEMBERS)",
        "@join__type(graph: WALLET)",
    ]
    # The same sharing in fed2 subgraphs needs @shareable.
    fed2_result = compose_inline(
        {
            "members": fed2(OWNER),
            "wallet": fed2(
                'type Member @key(fields: "id") { id: ID! address: Address }\ntype Address { city: String }'
            ),
        }
    )
    assert {e.code for e in fed2_result.errors} == {"INVALID_FIELD_SHARING"}


def test_unused_externals_are_dropped_instead_of_rejected() -> None:
    result = compose_inline(
        {
            "members": OWNER,
            "points": 'extend type Member @key(fields: "id") { id: ID! @external name: String @external points: Int }',
        }
    )
    assert result.ok, result.errors
    # points' unused `name @external` disappeared: members alone resolves name.
    assert directives_on(result.supergraph_sdl, "Member", "name") == ["@join__field(graph: MEMBERS)"]


def test_requires_and_extends_directive() -> None:
    result = compose_inline(
        {
            "members": OWNER,
            "points": 'type Member @key(fields: "id") @extends { id: ID! @external name: String @external greeting: String @requires(fields: "name") }',
        }
    )
    assert result.ok, result.errors
    sdl = result.supergraph_sdl
    # @extends keeps the extension flag (as Apollo does), `extend type` does not.
    assert '@join__type(graph: POINTS, key: "id", extension: true)' in directives_on(sdl, "Member")
    assert directives_on(sdl, "Member", "greeting") == ['@join__field(graph: POINTS, requires: "name")']
    assert "@join__field(graph: POINTS, external: true)" in directives_on(sdl, "Member", "name")


def test_fed1_subgraphs_compose_to_join_v0_3() -> None:
    result = compose_inline({"members": OWNER})
    assert '@link(url: "https://specs.apollo.dev/join/v0.3", for: EXECUTION)' in result.supergraph_sdl


def test_extension_of_a_type_nobody_defines_is_an_error() -> None:
    result = compose_inline(
        {"members": OWNER, "points": 'extend type Partner @key(fields: "id") { id: ID! @external x: Int }'}
    )
    assert [(e.code, e.coordinates) for e in result.errors] == [("EXTENSION_WITH_NO_BASE", ("Partner",))]
    assert result.errors[0].message.startswith('[points] Type "Partner" is an extension type')


def test_fed1_provides_on_non_external_fields_is_pruned() -> None:
    result = compose_inline(
        {
            "members": OWNER,
            "reviews": 'type Query { topReviewer: Member @provides(fields: "id name") }\n'
            'extend type Member @key(fields: "id") { id: ID! @external name: String @external }',
        }
    )
    assert result.ok, result.errors
    # `id` is resolved by reviews itself, so only `name` is really provided.
    assert directives_on(result.supergraph_sdl, "Query", "topReviewer") == [
        '@join__field(graph: REVIEWS, provides: "name")'
    ]
