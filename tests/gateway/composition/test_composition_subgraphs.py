"""Reading subgraphs: @link imports and renames, federation versions, root types, federation plumbing, validity."""

from __future__ import annotations

from composition_support import compose_inline, directives_on, fed2

from gateway.composition.links import FeatureUrl, Version, parse_link
from gateway.composition.subgraph import parse_subgraph


def test_feature_url_parsing() -> None:
    url = FeatureUrl.parse("https://specs.apollo.dev/federation/v2.9")
    assert url == FeatureUrl("https://specs.apollo.dev/federation", "federation", Version(2, 9))
    assert FeatureUrl.parse("not a spec url") is None
    assert Version(2, 10) > Version(2, 9)


def test_link_imports_renames_and_namespace() -> None:
    from graphql import parse

    directive = (
        parse(
            'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", as: "fed",'
            ' import: ["@key", {name: "@shareable", as: "@shared"}, "FieldSet"])'
        )
        .definitions[0]
        .directives[0]
    )
    link = parse_link({a.name.value: a.value for a in directive.arguments})
    assert link.namespace == "fed"
    assert link.spec_directive_for("key") == "key"
    assert link.spec_directive_for("shared") == "shareable"
    assert link.spec_directive_for("fed__external") == "external"
    assert link.spec_directive_for("external") is None
    assert link.imported_types == {"FieldSet": "FieldSet"}
    assert link.directive_name_in_schema("requires") == "fed__requires"


def test_renamed_and_namespaced_federation_directives_are_recognised() -> None:
    result = compose_inline(
        {
            "a": 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", as: "fed",'
            ' import: [{name: "@key", as: "@primaryKey"}])\n'
            "type Query { partners: [Partner!]! }\n"
            'type Partner @primaryKey(fields: "id") { id: ID! name: String @fed__external slogan: String @fed__requires(fields: "name") }',
            "b": 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3")\n'
            'type Partner @federation__key(fields: "id") { id: ID! name: String @federation__shareable }',
        }
    )
    assert result.ok, result.errors
    sdl = result.supergraph_sdl
    assert directives_on(sdl, "Partner") == ['@join__type(graph: A, key: "id")', '@join__type(graph: B, key: "id")']
    assert directives_on(sdl, "Partner", "slogan") == ['@join__field(graph: A, requires: "name")']
    assert directives_on(sdl, "Partner", "name") == ["@join__field(graph: A, external: true)", "@join__field(graph: B)"]


def test_federation_plumbing_is_dropped() -> None:
    sg, errors = parse_subgraph(
        "a",
        "http://a",
        fed2(
            "type Query { _entities(representations: [_Any!]!): [_Entity]! _service: _Service! me: Member }\n"
            'type Member @key(fields: "id") { id: ID! }\n'
            "scalar _Any\n"
            "union _Entity = Member\n"
            "type _Service { sdl: String }"
        ),
    )
    assert errors == []
    assert set(sg.types) == {"Query", "Member"}
    assert list(sg.types["Query"].fields) == ["me"]
    assert sg.types["Member"].fed["key"][0].args["fields"].value == "id"


def test_federation_version_is_read_from_the_link() -> None:
    sg, _ = parse_subgraph("a", "http://a", fed2("type Query { a: Int }", "2.7"))
    assert sg.is_fed2 and sg.federation_version == Version(2, 7)
    fed1, _ = parse_subgraph("b", "http://b", "type Query { a: Int }")
    assert not fed1.is_fed2 and fed1.federation_version is None


def test_unknown_federation_version_is_an_error() -> None:
    result = compose_inline({"a": fed2("type Query { a: Int }", "2.99", '"@key"')})
    assert [e.code for e in result.errors] == ["UNKNOWN_FEDERATION_LINK_VERSION"]


def test_importing_a_directive_newer_than_the_linked_version_is_an_error() -> None:
    result = compose_inline({"a": fed2("type Query { a: Int }", "2.0", '"@key", "@interfaceObject"')})
    assert [e.code for e in result.errors] == ["INVALID_LINK_DIRECTIVE_USAGE"]
    assert "@interfaceObject" in result.errors[0].message and "2.3" in result.errors[0].message


def test_custom_root_type_names_become_the_default_ones() -> None:
    result = compose_inline(
        {
            "a": fed2(
                "schema { query: RootQuery mutation: RootMutation }\n"
                "type RootQuery { a: Int }\n"
                "type RootMutation { b: Int }"
            )
        }
    )
    assert result.ok
    assert "query: Query\n  mutation: Mutation" in result.supergraph_sdl
    assert "RootQuery" not in result.supergraph_sdl


def test_a_default_root_name_used_by_another_type_is_an_error() -> None:
    result = compose_inline(
        {"a": fed2("schema { query: RootQuery }\ntype RootQuery { a: Query }\ntype Query { b: Int }")}
    )
    assert [e.code for e in result.errors] == ["ROOT_QUERY_USED"]
    assert result.errors[0].coordinates == ("Query",)


def test_federation_directives_are_checked_for_location_and_arguments() -> None:
    misplaced = compose_inline({"a": fed2('type Query { a: Int @key(fields: "a") }')})
    assert [str(e) for e in misplaced.errors] == [
        '[INVALID_GRAPHQL] [a] Directive "@key" may not be used on FIELD_DEFINITION.'
    ]
    missing = compose_inline({"a": fed2('type Query { t: T }\ntype T @key(field: "id") { id: ID }')})
    assert [e.message for e in missing.errors] == [
        '[a] Unknown argument "field" on directive "@key". Did you mean "fields"?',
        '[a] Directive "@key" argument "fields" of type "federation__FieldSet!" is required, but it was not provided.',
    ]
    repeated = compose_inline(
        {
            "a": fed2(
                "type Query { t: T }\n"
                'type T @key(fields: "id") { id: ID x: Int @external @external y: Int @requires(fields: "x") }'
            )
        }
    )
    assert [e.message for e in repeated.errors] == [
        '[a] The directive "@external" can only be used once at this location.'
    ]


def test_plain_graphql_problems_are_reported_per_subgraph() -> None:
    result = compose_inline(
        {"a": fed2("type Query { a: Node }\ninterface Node { id: ID! }\ntype Voucher implements Node { code: String }")}
    )
    assert [e.code for e in result.errors] == ["INVALID_GRAPHQL"]
    assert "Interface field Node.id expected but Voucher does not provide it." in result.errors[0].message
    assert result.errors[0].subgraphs == ("a",)


def test_subgraph_without_queries_still_joins_the_query_type() -> None:
    result = compose_inline(
        {
            "a": fed2('type Query { m: Member }\ntype Member @key(fields: "id") { id: ID! }'),
            "b": fed2('type Member @key(fields: "id") { id: ID! points: Int }'),
        }
    )
    assert result.ok
    # Every subgraph answers queries (`_service`, `_entities`), so each has a join__type on Query.
    assert directives_on(result.supergraph_sdl, "Query") == ["@join__type(graph: A)", "@join__type(graph: B)"]
    assert directives_on(result.supergraph_sdl, "Query", "m") == ["@join__field(graph: A)"]
