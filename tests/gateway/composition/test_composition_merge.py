"""Merging rules: what the supergraph keeps of each subgraph and how it says who resolves what."""

from __future__ import annotations

import pytest
from composition_support import compose_inline, compose_scenario, directives_on, fed2
from graphql import build_ast_schema, parse

from gateway.composition.merged import graph_enum_values


@pytest.mark.parametrize(
    ("version", "join"),
    [("2.0", "0.3"), ("2.3", "0.3"), ("2.6", "0.3"), ("2.7", "0.4"), ("2.8", "0.5"), ("2.9", "0.5"), ("2.11", "0.5")],
)
def test_join_spec_version_follows_the_newest_federation_version(version: str, join: str) -> None:
    result = compose_inline(
        {"a": fed2("type Query { a: Int }", "2.0", '"@key"'), "b": fed2("type Query { b: Int }", version, '"@key"')}
    )
    assert f'@link(url: "https://specs.apollo.dev/join/v{join}", for: EXECUTION)' in result.supergraph_sdl
    has_label = "overrideLabel: String" in result.supergraph_sdl
    assert has_label == (join >= "0.4")


def test_supergraph_is_a_valid_graphql_schema() -> None:
    for name in ("interface_entities", "tag_and_inaccessible", "context", "auth", "cost"):
        sdl = compose_scenario(name).supergraph_sdl
        schema = build_ast_schema(parse(sdl))
        assert schema.query_type is not None and schema.query_type.name == "Query"


def test_join_field_only_where_the_field_is_not_everywhere_its_type_is() -> None:
    result = compose_inline(
        {
            "a": fed2('type Query { m: Member }\ntype Member @key(fields: "id") { id: ID! name: String @shareable }'),
            "b": fed2('type Member @key(fields: "id") { id: ID! name: String @shareable points: Int }'),
        }
    )
    sdl = result.supergraph_sdl
    assert directives_on(sdl, "Member", "id") == []
    assert directives_on(sdl, "Member", "name") == []
    assert directives_on(sdl, "Member", "points") == ["@join__field(graph: B)"]


def test_compatible_field_types_keep_each_subgraphs_type() -> None:
    sdl = compose_scenario("value_types_and_nullability").supergraph_sdl
    # Output types merge to the most general one; each subgraph's own type is recorded for the planner.
    assert (
        '  balance(memberId: ID!): Money @join__field(graph: A, type: "Money") @join__field(graph: B, type: "Money!")'
        in sdl
    )
    assert '  amount: Int @join__field(graph: A, type: "Int!") @join__field(graph: B, type: "Int")' in sdl


def test_input_types_and_arguments_are_intersected() -> None:
    result = compose_scenario("inputs")
    sdl = result.supergraph_sdl
    block = sdl.split("input RedeemInput")[1].split("}")[0]
    assert "benefitId: ID!" in block and "quantity: Int = 1" in block
    assert "note" not in block and "coupon" not in block
    # ... unless marked @inaccessible, which keeps it (hidden from the API).
    assert "channel: String @inaccessible @join__field(graph: A)" in block
    assert {h.code for h in result.hints} >= {"INCONSISTENT_INPUT_OBJECT_FIELD"}
    optional = compose_scenario("optional_arguments")
    assert 'catalog(first: Int, locale: String = "zh-CN"): [String!]!' in optional.supergraph_sdl
    assert [h.coordinates for h in optional.hints if h.code == "INCONSISTENT_ARGUMENT_PRESENCE"] == [
        ("Query.catalog(debug:)",)
    ]


def test_enums_union_as_output_intersect_as_input() -> None:
    result = compose_scenario("enums")
    sdl = result.supergraph_sdl
    status = sdl.split("enum Status")[1].split("}")[0]
    assert all(
        v in status for v in ("ACTIVE", "SUSPENDED @join__enumValue(graph: A)", "ERASED @join__enumValue(graph: B)")
    )
    sort = sdl.split("enum SortOrder")[1].split("}")[0]
    assert "RANDOM" not in sort and "ASC" in sort
    assert "  ACTIVE @join__enumValue(graph: A) @join__enumValue(graph: B)" in status
    codes = {h.code for h in result.hints}
    assert {
        "INCONSISTENT_ENUM_VALUE_FOR_INPUT_ENUM",
        "INCONSISTENT_ENUM_VALUE_FOR_OUTPUT_ENUM",
        "UNUSED_ENUM_TYPE",
    } <= codes


def test_unions_and_interfaces_record_members_per_subgraph() -> None:
    sdl = compose_scenario("unions").supergraph_sdl
    hit = directives_on(sdl, "Hit")
    assert '@join__unionMember(graph: SEARCH, member: "Membership")' in hit
    assert '@join__unionMember(graph: CATALOG, member: "Partner")' in hit
    assert "union Hit" in sdl and "= Voucher | Partner | Membership" in sdl
    hierarchy = compose_scenario("interface_hierarchy").supergraph_sdl
    assert "type Voucher implements Benefit & Node" in hierarchy
    assert '@join__implements(graph: B, interface: "Node")' in directives_on(hierarchy, "Voucher")
    assert "interface Benefit implements Node" in hierarchy


def test_interface_object_fields_reach_the_implementations() -> None:
    sdl = compose_scenario("interface_entities").supergraph_sdl
    assert '@join__type(graph: LEDGER, key: "id", isInterfaceObject: true)' in directives_on(sdl, "Account")
    # No subgraph defines PersonalAccount.balance: the field comes from the @interfaceObject, hence no graph.
    assert directives_on(sdl, "PersonalAccount", "balance") == ["@join__field"]
    assert "  history(first: Int = 10): [String!]! @join__field" in sdl.split("type BusinessAccount")[1]


def test_override_and_progressive_override() -> None:
    sdl = compose_scenario("override").supergraph_sdl
    assert directives_on(sdl, "Member", "balance") == ['@join__field(graph: POINTS, override: "members")']
    assert directives_on(sdl, "Member", "tier") == [
        '@join__field(graph: MEMBERS, overrideLabel: "percent(25)")',
        '@join__field(graph: POINTS, override: "members", overrideLabel: "percent(25)")',
    ]
    # Still used by a @key in members: the overridden field stays, marked as used.
    assert directives_on(sdl, "Member", "nickname") == [
        "@join__field(graph: MEMBERS, usedOverridden: true)",
        '@join__field(graph: POINTS, override: "members")',
    ]


def test_override_from_a_missing_subgraph_is_a_hint() -> None:
    result = compose_scenario("override")
    hints = [h for h in result.hints if h.code == "FROM_SUBGRAPH_DOES_NOT_EXIST"]
    assert [h.coordinates for h in hints] == [("Member.lifetime",)]
    assert 'Source subgraph "legacy" for field "Member.lifetime"' in hints[0].message


def test_tag_inaccessible_and_deprecation_are_carried_over() -> None:
    sdl = compose_scenario("tag_and_inaccessible").supergraph_sdl
    assert '@link(url: "https://specs.apollo.dev/inaccessible/v0.2", for: SECURITY)' in sdl
    assert '@tag(name: "public-api")' in sdl.split("{")[0]  # on the schema
    assert directives_on(sdl, "Member", "name") == [
        "@join__field(graph: A)",
        '@tag(name: "pii")',
        '@tag(name: "display")',
    ]
    assert directives_on(sdl, "Member") == [
        '@join__type(graph: A, key: "id")',
        '@join__type(graph: B, key: "id")',
        '@tag(name: "entity")',
        '@tag(name: "b-only")',
    ]
    assert directives_on(sdl, "Partner")[-1] == "@inaccessible"
    described = compose_scenario("descriptions_and_deprecation").supergraph_sdl
    assert '  legacyCode: String @join__field(graph: CATALOG) @deprecated(reason: "Use id")' in described
    assert '"""A calendar date, ISO-8601."""\nscalar Date' in described
    assert '@specifiedBy(url: "https://tools.ietf.org/html/rfc3339")' in described


def test_auth_requirements_merge_and_propagate_to_interfaces() -> None:
    sdl = compose_scenario("auth").supergraph_sdl
    # Both subgraphs' requirements hold: scopes are AND-ed, policies reduced to the weakest sufficient set.
    assert directives_on(sdl, "Member", "email") == ['@requiresScopes(scopes: [["mail:read", "pii:read"]])']
    assert directives_on(sdl, "Member")[-1] == '@policy(policies: [["member_is_self"]])'
    itf = compose_scenario("auth_on_interfaces").supergraph_sdl
    assert "@authenticated" in directives_on(itf, "Benefit")
    assert directives_on(itf, "Benefit", "settlementPrice") == ['@requiresScopes(scopes: [["finance", "partner"]])']


def test_cost_takes_the_highest_weight() -> None:
    sdl = compose_scenario("cost").supergraph_sdl
    assert '@link(url: "https://specs.apollo.dev/cost/v0.1", import: ["@listSize"])' in sdl
    assert directives_on(sdl, "Query", "expensive") == ["@cost(weight: 25)"]


def test_context_arguments_leave_the_api() -> None:
    sdl = compose_scenario("context").supergraph_sdl
    assert directives_on(sdl, "Benefit", "price") == [
        '@join__field(graph: A, contextArguments: [{context: "a__partnerCtx", name: "currency", type: "String", selection: " { currency }"}])'
    ]
    assert "  price: Int" in sdl  # the contextual argument is not a client argument
    assert '@context(name: "a__partnerCtx")' in directives_on(sdl, "Partner")


def test_composed_custom_directives() -> None:
    sdl = compose_scenario("compose_directive").supergraph_sdl
    assert '@link(url: "https://alliance.example/audit/v1.1", import: ["@audited", "@sensitive"])' in sdl
    assert (
        "directive @audited(reason: String, level: Int = 1, by: String) repeatable on FIELD_DEFINITION | OBJECT | INTERFACE"
        in sdl
    )
    assert directives_on(sdl, "Ledger")[-2:] == ["@audited", "@audited(level: 2)"]


def test_executable_directives_are_intersected() -> None:
    sdl = compose_scenario("executable_directives").supergraph_sdl
    assert '"""Mask personal data in the response."""\ndirective @mask(level: Int = 1) on FIELD' in sdl
    assert "directive @trace on MUTATION | QUERY" in sdl
    assert "@onlyHere" not in sdl and "@schemaOnly" not in sdl


def test_graph_enum_names_are_sanitised_and_unique() -> None:
    assert graph_enum_values(["members", "my-points", "2fa", "a_1", "a-1"]) == {
        "members": "MEMBERS",
        "my-points": "MY_POINTS",
        "2fa": "_2FA",
        "a_1": "A_1__1",
        "a-1": "A_1__2",
    }


def test_inaccessible_must_leave_a_coherent_api() -> None:
    referenced = compose_inline({"a": fed2("type Query { m: Member }\ntype Member @inaccessible { id: ID }")})
    assert [(e.code, e.coordinates) for e in referenced.errors] == [("REFERENCED_INACCESSIBLE", ("Member", "Query.m"))]
    emptied = compose_inline({"a": fed2("type Query { a: Int b: Stats }\ntype Stats { x: Int @inaccessible }")})
    assert [e.code for e in emptied.errors] == ["ONLY_INACCESSIBLE_CHILDREN"]
    required = compose_inline({"a": fed2("type Query { a(x: Int! @inaccessible): Int }")})
    assert [e.code for e in required.errors] == ["REQUIRED_INACCESSIBLE"]
