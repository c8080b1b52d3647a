"""Subgraph sets that must not compose, with the error a user should get (code, subgraphs, coordinates, wording).

Shared by the plain error tests and by the test that checks Apollo's composer reports the same codes.
"""

from __future__ import annotations

from composition_apollo_cases import APOLLO_PARITY_CASES
from composition_support import fed2
from error_case import ErrorCase


CASES: list[ErrorCase] = [
    ErrorCase(
        "field-type-mismatch",
        {
            "members": fed2(
                'type Query { me: Member }\ntype Member @key(fields: "id") { id: ID! phone: String @shareable }'
            ),
            "crm": fed2('type Member @key(fields: "id") { id: ID! phone: Int @shareable }'),
        },
        "FIELD_TYPE_MISMATCH",
        ("crm", "members"),
        ("Member.phone",),
        (
            'Type of field "Member.phone" is incompatible across subgraphs',
            'type "String" in subgraph "members"',
            'type "Int" in subgraph "crm"',
        ),
    ),
    ErrorCase(
        "argument-type-mismatch",
        {
            "a": fed2("type Query { points(member: ID): Int @shareable }"),
            "b": fed2("type Query { points(member: Int): Int @shareable }"),
        },
        "FIELD_ARGUMENT_TYPE_MISMATCH",
        ("a", "b"),
        ("Query.points(member:)",),
        ('Type of argument "Query.points(member:)" is incompatible',),
    ),
    ErrorCase(
        "non-shareable-field-in-two-subgraphs",
        {
            "members": fed2('type Query { me: Member }\ntype Member @key(fields: "id") { id: ID! name: String }'),
            "crm": fed2('type Member @key(fields: "id") { id: ID! name: String }'),
        },
        "INVALID_FIELD_SHARING",
        ("crm", "members"),
        ("Member.name",),
        (
            'Non-shareable field "Member.name" is resolved from multiple subgraphs',
            'subgraphs "crm" and "members"',
            "all of them",
        ),
    ),
    ErrorCase(
        "root-field-in-two-subgraphs",
        {"a": fed2("type Query { ping: Int }"), "b": fed2("type Query { ping: Int }")},
        "INVALID_FIELD_SHARING",
        ("a", "b"),
        ("Query.ping",),
        ('Non-shareable field "Query.ping"',),
    ),
    ErrorCase(
        "shared-but-not-everywhere",
        {
            "a": fed2("type Query { x: Money }\ntype Money { amount: Int }"),
            "b": fed2("type Query { y: Money }\ntype Money @shareable { amount: Int }"),
        },
        "INVALID_FIELD_SHARING",
        ("a", "b"),
        ("Money.amount",),
        ('defined as non-shareable in subgraph "a"',),
    ),
    ErrorCase(
        "shared-subscription",
        {
            "a": fed2("type Query { a: Int }\ntype Subscription { balance: Int @shareable }"),
            "b": fed2("type Subscription { balance: Int @shareable }"),
        },
        "INVALID_FIELD_SHARING",
        ("a", "b"),
        ("Subscription.balance",),
        ("Fields on root level subscription object cannot be marked as shareable",),
    ),
    ErrorCase(
        "requires-on-non-external-field",
        {
            "points": fed2(
                "type Query { m: Member }\n"
                'type Member @key(fields: "id") { id: ID! tier: String bonus: Int @requires(fields: "tier") }'
            )
        },
        "REQUIRES_FIELDS_MISSING_EXTERNAL",
        ("points",),
        ("Member.bonus",),
        (
            '[points] On field "Member.bonus", for @requires(fields: "tier")',
            'field "Member.tier" should not be part of a @requires',
            "not marked @external",
        ),
    ),
    ErrorCase(
        "requires-unknown-field",
        {
            "points": fed2(
                "type Query { m: Member }\n"
                'type Member @key(fields: "id") { id: ID! bonus: Int @requires(fields: "tierr") }'
            )
        },
        "REQUIRES_INVALID_FIELDS",
        ("points",),
        ("Member.bonus",),
        ('Cannot query field "tierr" on type "Member"', "add it to this subgraph with @external"),
    ),
    ErrorCase(
        "requires-argument-lost-in-merge",
        {
            "a": fed2(
                "type Query { t: T }\n"
                'type T @key(fields: "id") { id: ID! w(unit: String): Int @external c: Int @requires(fields: "w(unit: \\"kg\\")") }'
            ),
            "b": fed2('type T @key(fields: "id") { id: ID! w: Int @shareable }'),
            "c": fed2('type T @key(fields: "id") { id: ID! w(unit: String): Int @shareable }'),
        },
        "REQUIRES_INVALID_FIELDS",
        ("a", "b"),
        ("T.c",),
        (
            'cannot provide a value for argument "unit" of field "T.w" as argument "unit" is not defined in subgraph "b"',
        ),
    ),
    ErrorCase(
        "provides-on-non-external-field",
        {
            "a": fed2(
                'type Query { m: Member @provides(fields: "name") }\n'
                'type Member @key(fields: "id") { id: ID! name: String }'
            )
        },
        "PROVIDES_FIELDS_MISSING_EXTERNAL",
        ("a",),
        ("Query.m",),
        ('field "Member.name" should not be part of a @provides',),
    ),
    ErrorCase(
        "provides-unknown-field",
        {"a": fed2('type Query { m: Member @provides(fields: "nick") }\ntype Member @key(fields: "id") { id: ID! }')},
        "PROVIDES_INVALID_FIELDS",
        ("a",),
        ("Query.m",),
        ('Cannot query field "nick" on type "Member"',),
    ),
    ErrorCase(
        "provides-on-scalar-field",
        {"a": fed2('type Query { m: Int @provides(fields: "x") }')},
        "PROVIDES_ON_NON_OBJECT_FIELD",
        ("a",),
        ("Query.m",),
    ),
    ErrorCase(
        "key-unknown-field",
        {"a": fed2('type Query { m: Member }\ntype Member @key(fields: "uuid") { id: ID! }')},
        "KEY_INVALID_FIELDS",
        ("a",),
        ("Member",),
        ('On type "Member", for @key(fields: "uuid"): Cannot query field "uuid" on type "Member"',),
    ),
    ErrorCase(
        "key-selects-interface",
        {
            "a": fed2(
                "type Query { m: Member }\n"
                "interface Owner { id: ID! }\n"
                'type Member @key(fields: "owner") { id: ID! owner: Owner }'
            )
        },
        "KEY_FIELDS_SELECT_INVALID_TYPE",
        ("a",),
        ("Member",),
        ('field "Member.owner" is a Interface type which is not allowed in @key',),
    ),
    ErrorCase(
        "key-field-with-arguments",
        {"a": fed2('type Query { m: Member }\ntype Member @key(fields: "code") { code(kind: Int): String }')},
        "KEY_FIELDS_HAS_ARGS",
        ("a",),
        ("Member",),
    ),
    ErrorCase(
        "key-syntax-error",
        {"a": fed2('type Query { m: Member }\ntype Member @key(fields: "id {") { id: ID! }')},
        "KEY_INVALID_FIELDS",
        ("a",),
        ("Member",),
    ),
    ErrorCase(
        "external-on-every-subgraph",
        {
            "a": fed2(
                "type Query { m: Member }\n"
                'type Member @key(fields: "id") { id: ID! tier: String @external bonus: Int @requires(fields: "tier") }'
            ),
            "b": fed2('type Member @key(fields: "id") { id: ID! other: Int }'),
        },
        "EXTERNAL_MISSING_ON_BASE",
        ("a",),
        ("Member.tier",),
        ('Field "Member.tier" is marked @external on all the subgraphs in which it is listed (subgraph "a")',),
    ),
    ErrorCase(
        "external-unused",
        {
            "a": fed2('type Query { m: Member }\ntype Member @key(fields: "id") { id: ID! tier: String @external }'),
            "b": fed2('type Member @key(fields: "id") { id: ID! tier: String }'),
        },
        "EXTERNAL_UNUSED",
        ("a",),
        ("Member.tier",),
    ),
    ErrorCase(
        "external-type-mismatch",
        {
            "a": fed2(
                "type Query { m: Member }\n"
                'type Member @key(fields: "id") { id: ID! tier: Int @external bonus: Int @requires(fields: "tier") }'
            ),
            "b": fed2('type Member @key(fields: "id") { id: ID! tier: String }'),
        },
        "EXTERNAL_TYPE_MISMATCH",
        ("a", "b"),
        ("Member.tier",),
    ),
    ErrorCase(
        "input-required-field-missing",
        {
            "a": fed2(
                "type Query { redeem(input: RedeemInput): Int }\ninput RedeemInput { benefitId: ID! note: String }"
            ),
            "b": fed2("type Query { preview(input: RedeemInput): Int }\ninput RedeemInput { note: String }"),
        },
        "REQUIRED_INPUT_FIELD_MISSING_IN_SOME_SUBGRAPH",
        ("a", "b"),
        ("RedeemInput.benefitId",),
        ('it is required in subgraph "a" but does not appear in subgraph "b"',),
    ),
    ErrorCase(
        "input-no-common-field",
        {
            "a": fed2("type Query { x(i: Filter): Int }\ninput Filter { a: Int }"),
            "b": fed2("type Query { y(i: Filter): Int }\ninput Filter { b: Int }"),
        },
        "EMPTY_MERGED_INPUT_TYPE",
        ("a", "b"),
        ("Filter",),
    ),
    ErrorCase(
        "required-argument-missing",
        {
            "a": fed2("type Query { list(first: Int!): [Int] @shareable }"),
            "b": fed2("type Query { list: [Int] @shareable }"),
        },
        "REQUIRED_ARGUMENT_MISSING_IN_SOME_SUBGRAPH",
        ("a", "b"),
        ("Query.list(first:)",),
    ),
    ErrorCase(
        "argument-default-mismatch",
        {
            "a": fed2("type Query { list(first: Int = 10): [Int] @shareable }"),
            "b": fed2("type Query { list(first: Int = 20): [Int] @shareable }"),
        },
        "FIELD_ARGUMENT_DEFAULT_MISMATCH",
        ("a", "b"),
        ("Query.list(first:)",),
    ),
    ErrorCase(
        "enum-in-and-out-differs",
        {
            "a": fed2("type Query { tier(t: Tier): Tier }\nenum Tier { BASIC GOLD }"),
            "b": fed2("type Query { top: Tier }\nenum Tier { BASIC DIAMOND }"),
        },
        "ENUM_VALUE_MISMATCH",
        ("a", "b"),
        ("Tier.GOLD",),
        ('Enum type "Tier" is used as both input type', '"GOLD" is defined in subgraph "a" but not in subgraph "b"'),
    ),
    ErrorCase(
        "input-enum-no-common-value",
        {
            "a": fed2("type Query { x(s: Sort): Int }\nenum Sort { ASC }"),
            "b": fed2("type Query { y(s: Sort): Int }\nenum Sort { DESC }"),
        },
        "EMPTY_MERGED_ENUM_TYPE",
        ("a", "b"),
        ("Sort",),
    ),
    ErrorCase(
        "type-kind-mismatch",
        {
            "a": fed2("type Query { b: Benefit }\ntype Benefit { id: ID }"),
            "b": fed2("type Query { c: Benefit }\ninterface Benefit { id: ID }"),
        },
        "TYPE_KIND_MISMATCH",
        ("a", "b"),
        ("Benefit",),
        ('it is defined as Object Type in subgraph "a" but Interface Type in subgraph "b"',),
    ),
    ErrorCase(
        "interface-field-not-implemented",
        {
            "a": fed2(
                "type Query { n: Node }\n"
                "interface Node { id: ID! createdAt: String }\n"
                'type Voucher implements Node @key(fields: "id") { id: ID! createdAt: String }'
            ),
            "b": fed2(
                "interface Node { id: ID! }\ntype Membership implements Node { id: ID! }\ntype Query { m: Membership }"
            ),
        },
        "INTERFACE_FIELD_NO_IMPLEM",
        ("a", "b"),
        ("Node.createdAt", "Membership"),
        ('Interface field "Node.createdAt" is declared in subgraph "a" but type "Membership"',),
    ),
    ErrorCase(
        "interface-key-missing-on-implementation",
        {
            "a": fed2(
                "type Query { n: Node }\n"
                'interface Node @key(fields: "id") { id: ID! }\n'
                "type Voucher implements Node { id: ID! }"
            )
        },
        "INTERFACE_KEY_NOT_ON_IMPLEMENTATION",
        ("a",),
        ("Node", "Voucher"),
    ),
    ErrorCase(
        "interface-object-without-interface",
        {
            "a": fed2('type Query { n: Node }\ntype Node @key(fields: "id") @interfaceObject { id: ID! }'),
        },
        "INTERFACE_OBJECT_USAGE_ERROR",
        ("a",),
        ("Node",),
    ),
    ErrorCase(
        "override-from-self",
        {
            "a": fed2(
                'type Query { m: Member }\ntype Member @key(fields: "id") { id: ID! tier: String @override(from: "a") }'
            )
        },
        "OVERRIDE_FROM_SELF_ERROR",
        ("a",),
        ("Member.tier",),
    ),
    ErrorCase(
        "override-from-unknown-subgraph",
        {
            "points": fed2(
                "type Query { m: Member }\n"
                'type Member @key(fields: "id") { id: ID! tier: String @override(from: "memberz") }'
            ),
            "members": fed2('type Member @key(fields: "id") { id: ID! tier: String }'),
        },
        "INVALID_FIELD_SHARING",
        ("members", "points"),
        ("Member.tier",),
        ('has an @override directive in "points" that targets an unknown subgraph',),
    ),
    ErrorCase(
        "override-both-ways",
        {
            "a": fed2(
                'type Query { m: Member }\ntype Member @key(fields: "id") { id: ID! tier: String @override(from: "b") }'
            ),
            "b": fed2('type Member @key(fields: "id") { id: ID! tier: String @override(from: "a") }'),
        },
        "OVERRIDE_SOURCE_HAS_OVERRIDE",
        ("a", "b"),
        ("Member.tier",),
    ),
    ErrorCase(
        "override-bad-label",
        {
            "a": fed2(
                "type Query { m: Member }\n"
                'type Member @key(fields: "id") { id: ID! tier: String @override(from: "b", label: "50%") }',
                "2.7",
            ),
            "b": fed2('type Member @key(fields: "id") { id: ID! tier: String }', "2.7"),
        },
        "OVERRIDE_LABEL_INVALID",
        ("a",),
        ("Member.tier",),
    ),
    ErrorCase(
        "override-conflicts-with-requires",
        {
            "a": fed2(
                'type Query { m: Member }\ntype Member @key(fields: "id") { id: ID! tier: String @override(from: "b") }'
            ),
            "b": fed2(
                'type Member @key(fields: "id") { id: ID! score: Int @external tier: String @requires(fields: "score") }'
            ),
            "c": fed2('type Member @key(fields: "id") { id: ID! score: Int }'),
        },
        "OVERRIDE_COLLISION_WITH_ANOTHER_DIRECTIVE",
        ("a", "b"),
        ("Member.tier",),
    ),
    ErrorCase(
        "extension-without-base",
        {"a": fed2('type Query { x: Int }\nextend type Member @key(fields: "id") { id: ID! }')},
        "EXTENSION_WITH_NO_BASE",
        ("a",),
        ("Member",),
    ),
    ErrorCase(
        "no-query-anywhere",
        {"a": fed2("type Member { id: ID }")},
        "NO_QUERIES",
        (),
        (),
    ),
    ErrorCase(
        "unknown-type",
        {"a": fed2("type Query { m: Mmber }")},
        "INVALID_GRAPHQL",
        ("a",),
        (),
        ("[a] Unknown type Mmber",),
    ),
    ErrorCase(
        "directive-not-imported",
        {"a": fed2('type Query { m: Int @shareable2 }\ntype T @key(fields: "id") { id: ID! }', imports='"@key"')},
        "INVALID_GRAPHQL",
        ("a",),
        (),
        ('Unknown directive "@shareable2"',),
    ),
    ErrorCase(
        "federation-directive-not-imported",
        {"a": fed2("type Query { m: Int @shareable }", imports='"@key"')},
        "INVALID_GRAPHQL",
        ("a",),
        (),
        ('Unknown directive "@shareable"', '"@federation__shareable"'),
    ),
    ErrorCase(
        "syntax-error",
        {"a": "type Query { m: Int "},
        "INVALID_GRAPHQL",
        ("a",),
        (),
        ("[a] Syntax Error",),
        apollo_agrees=False,  # Apollo's composeServices throws instead of returning an error
    ),
    ErrorCase(
        "inaccessible-type-referenced",
        {"a": fed2("type Query { m: Member }\ntype Member @inaccessible { id: ID }")},
        "REFERENCED_INACCESSIBLE",
        ("a",),
        ("Member", "Query.m"),
        ('Type "Member" is @inaccessible but is referenced by "Query.m", which is in the API schema.',),
    ),
    ErrorCase(
        "inaccessible-all-fields",
        {"a": fed2("type Query { a: Int b: Stats }\ntype Stats { x: Int @inaccessible }")},
        "ONLY_INACCESSIBLE_CHILDREN",
        ("a",),
        ("Stats",),
    ),
    ErrorCase(
        "inaccessible-required-argument",
        {"a": fed2("type Query { a(x: Int! @inaccessible): Int }")},
        "REQUIRED_INACCESSIBLE",
        ("a",),
        ("Query.a(x:)",),
    ),
    ErrorCase(
        "inaccessible-implementation-field",
        {
            "a": fed2(
                "type Query { n: Node }\n"
                "interface Node { id: ID! }\n"
                "type Voucher implements Node { id: ID! @inaccessible }"
            )
        },
        "IMPLEMENTED_BY_INACCESSIBLE",
        ("a",),
        ("Voucher.id", "Node.id"),
    ),
    ErrorCase(
        "composed-directive-without-link",
        {
            "a": fed2(
                "directive @audited on FIELD_DEFINITION\ntype Query { a: Int @audited }",
                "2.3",
                '"@key", "@composeDirective"',
            ).replace("])", ']) @composeDirective(name: "@audited")', 1)
        },
        "DIRECTIVE_COMPOSITION_ERROR",
        ("a",),
        (),
        ('Directive "@audited" in subgraph "a" cannot be composed because it is not a member of a core feature',),
    ),
    ErrorCase(
        "unsatisfiable-non-resolvable-key",
        {
            "a": fed2('type Query { member: Member }\ntype Member @key(fields: "id") { id: ID! }'),
            "b": fed2('type Member @key(fields: "id", resolvable: false) { id: ID! points: Int }'),
        },
        "SATISFIABILITY_ERROR",
        ("a",),
        ("Member.points",),
        (
            "The following supergraph API query:\n"
            "{\n"
            "  member {\n"
            "    points\n"
            "  }\n"
            "}\n"
            "cannot be satisfied by the subgraphs because:",
            '- from subgraph "a":',
            'cannot find field "Member.points"',
            'none of the @key defined on type "Member" in subgraph "b" are resolvable',
        ),
    ),
    ErrorCase(
        "unsatisfiable-key-fields-missing",
        {
            "a": fed2('type Query { member: Member }\ntype Member @key(fields: "id") { id: ID! }'),
            "b": fed2('type Member @key(fields: "phone") { phone: String! points: Int }'),
        },
        "SATISFIABILITY_ERROR",
        ("a",),
        ("Member.points",),
        (
            'cannot move to subgraph "b" using @key(fields: "phone") of "Member", the key field(s) cannot be resolved from subgraph "a"',
        ),
    ),
    ErrorCase(
        "unsatisfiable-value-type-field",
        {
            "a": fed2("type Query { stats: Stats }\ntype Stats @shareable { count: Int }"),
            "b": fed2("type Query { other: Int }\ntype Stats @shareable { count: Int total: Int }"),
        },
        "SATISFIABILITY_ERROR",
        ("a",),
        ("Stats.total",),
        ('because type "Stats" has no @key defined in subgraph "b"',),
    ),
    ErrorCase(
        "unsatisfiable-requires",
        {
            "a": fed2('type Query { member: Member }\ntype Member @key(fields: "id") { id: ID! }'),
            "b": fed2(
                'type Member @key(fields: "id") { id: ID! tier: String @external bonus: Int @requires(fields: "tier") }'
            ),
            "c": fed2('type Member @key(fields: "id", resolvable: false) { id: ID! tier: String }'),
        },
        "SATISFIABILITY_ERROR",
        ("a",),
        ("Member.tier",),
    ),
]

# Cases found by comparing with Apollo's composer (hand-picked and from random subgraph sets).
CASES += APOLLO_PARITY_CASES

__all__ = ["CASES", "ErrorCase"]
