"""Subgraph sets that must not compose, with the error a user should get (code, subgraphs, coordinates, wording).

Shared by the plain error tests and by the test that checks Apollo's composer reports the same codes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from composition_support import fed2


@dataclass(frozen=True)
class ErrorCase:
    id: str
    subgraphs: dict[str, str]
    code: str
    subgraphs_named: tuple[str, ...]
    coordinates: tuple[str, ...]
    message_parts: tuple[str, ...] = ()
    # Apollo's composer reports exactly these codes too (False when it has no equivalent or crashes).
    apollo_agrees: bool = True
    extra: dict = field(default_factory=dict)


_AUTH_IMPORTS = '"@key", "@interfaceObject", "@authenticated", "@requiresScopes", "@policy"'
_AUTH_TYPES = (
    "type Query {{ rewards: [Reward] }}\ninterface Reward {0} {{ id: ID! cost: Int {1} }}\n"
    "type Voucher implements Reward {{ id: ID! cost: Int }}"
)

_AUDIT_LINK = (
    'extend schema @link(url: "https://specs.apollo.dev/federation/v2.5", import: ["@composeDirective"])'
    ' @link(url: "https://specs.example.com/audit/v1.0", import: ["@audit"]) @composeDirective(name: "@audit")\n'
    "directive @audit{} on FIELD_DEFINITION | OBJECT\n"
)

_CONTEXT_IMPORTS = '"@key", "@context", "@fromContext", "@external"'
_CONTEXT_TYPES = (
    'type Query {{ member: Member }}\ntype Member @key(fields: "id") @context(name: "holder")'
    " {{ id: ID! label: String perks: [Perk] }}\n"
    'type Perk {perk_key} {{ id: ID! title(owner: String @fromContext(field: "$holder {selection}")): String }}'
)

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
    # Federation 1 knows only @key, @requires, @provides, @external, @tag and @extends: the fed2 directives need a
    # @link to the federation spec.
    ErrorCase(
        "fed1-uses-shareable",
        {
            "a": 'type Query { me: Member }\ntype Member @key(fields: "id") { id: ID! name: String @shareable }',
            "b": 'extend type Member @key(fields: "id") { id: ID! @external points: Int }',
        },
        "INVALID_GRAPHQL",
        ("a",),
        (),
        ('Unknown directive "@shareable"', "this schema is a federation 1 schema"),
    ),
    ErrorCase(
        "fed1-uses-inaccessible",
        {"a": "type Query { me: Int @inaccessible points: Int }"},
        "INVALID_GRAPHQL",
        ("a",),
        (),
        ('Unknown directive "@inaccessible"',),
    ),
    # @oneOf is not built into the GraphQL that Apollo's composer runs on: undefined, it is an unknown directive.
    ErrorCase(
        "oneof-without-definition",
        {"a": fed2("type Query { pay(with: Payment): Int }\ninput Payment @oneOf { points: Int voucher: ID }")},
        "INVALID_GRAPHQL",
        ("a",),
        (),
        ('Unknown directive "@oneOf".',),
    ),
    ErrorCase(
        "shareable-twice-on-a-field",
        {"a": fed2("type Query { me: Int @shareable @shareable }")},
        "INVALID_SHAREABLE_USAGE",
        ("a",),
        ("Query.me",),
        ('Invalid duplicate application of @shareable on field "Query.me"',),
    ),
    ErrorCase(
        "shareable-twice-on-a-type-definition",
        {"a": fed2("type Query { stats: Stats }\ntype Stats @shareable @shareable { count: Int }")},
        "INVALID_SHAREABLE_USAGE",
        ("a",),
        ("Stats",),
        ('on the same type declaration of "Stats"',),
    ),
    ErrorCase(
        "authenticated-on-interface",
        {"a": fed2(_AUTH_TYPES.format("@authenticated", ""), "2.6", _AUTH_IMPORTS)},
        "AUTH_REQUIREMENTS_APPLIED_ON_INTERFACE",
        ("a",),
        ("Reward",),
        ('Invalid use of @authenticated on interface "Reward"',),
    ),
    ErrorCase(
        "requires-scopes-on-interface-field",
        {"a": fed2(_AUTH_TYPES.format("", '@requiresScopes(scopes: [["ops"]])'), "2.6", _AUTH_IMPORTS)},
        "AUTH_REQUIREMENTS_APPLIED_ON_INTERFACE",
        ("a",),
        ("Reward.cost",),
        ('Invalid use of @requiresScopes on field "Reward.cost"',),
    ),
    ErrorCase(
        "policy-on-interface",
        {"a": fed2(_AUTH_TYPES.format('@policy(policies: [["p"]])', ""), "2.6", _AUTH_IMPORTS)},
        "AUTH_REQUIREMENTS_APPLIED_ON_INTERFACE",
        ("a",),
        ("Reward",),
        ('Invalid use of @policy on interface "Reward"',),
    ),
    ErrorCase(
        "authenticated-on-interface-object",
        {
            "a": fed2(
                'type Query { rewards: [Reward] }\ntype Reward @key(fields: "id") @interfaceObject @authenticated'
                " { id: ID! }",
                "2.6",
                _AUTH_IMPORTS,
            ),
            "b": fed2(
                'interface Reward @key(fields: "id") { id: ID! }\ntype Voucher implements Reward @key(fields: "id")'
                " { id: ID! }",
                "2.6",
                _AUTH_IMPORTS,
            ),
        },
        "AUTH_REQUIREMENTS_APPLIED_ON_INTERFACE",
        ("a",),
        ("Reward",),
        ('Invalid use of @authenticated on interface object "Reward"',),
    ),
    ErrorCase(
        "tag-imported-under-two-names",
        {
            "a": fed2('type Query { a: Int @mytag(name: "x") }', "2.3", '{name: "@tag", as: "@mytag"}'),
            "b": fed2('type Query { b: Int @tag(name: "x") }', "2.3", '"@tag"'),
        },
        "LINK_IMPORT_NAME_MISMATCH",
        ("a", "b"),
        ("@tag",),
        ('imported as "@mytag" in subgraph "a"', '"@tag" in subgraph "b"'),
    ),
    # Each subgraph is checked on its own: one unreadable subgraph does not hide the others' mistakes.
    ErrorCase(
        "mistakes-in-a-readable-subgraph-beside-an-unreadable-one",
        {
            "a": "type Query { me: Int @shareable }",
            "b": fed2('type Query { member: Member }\ntype Member @key(fields: "id") { id: ID! tier: Int @external }'),
        },
        "EXTERNAL_UNUSED",
        ("b",),
        ("Member.tier",),
    ),
    ErrorCase(
        "requires-reads-data-protected-more-than-the-field",
        {
            "a": fed2(
                'type Query { member: Member }\ntype Member @key(fields: "id") { id: ID! tier: String @authenticated }',
                "2.6",
                _AUTH_IMPORTS,
            ),
            "b": fed2(
                'type Member @key(fields: "id") { id: ID! tier: String @external bonus: Int @requires(fields: "tier") }',
                "2.6",
                '"@key", "@external", "@requires"',
            ),
        },
        "MISSING_TRANSITIVE_AUTH_REQUIREMENTS",
        ("b",),
        ("Member.bonus",),
        ('access the transitive field "Member.tier" data from @requires selection set',),
    ),
    ErrorCase(
        "requires-reads-a-type-needing-more-scopes",
        {
            "a": fed2(
                'type Query { member: Member }\ntype Member @key(fields: "id") { id: ID! card: Card }\n'
                'type Card @requiresScopes(scopes: [["cards"], ["ops"]]) { number: String }',
                "2.6",
                _AUTH_IMPORTS,
            ),
            "b": fed2(
                'type Member @key(fields: "id") { id: ID! card: Card @external\n'
                '  bonus: Int @requires(fields: "card { number }") @requiresScopes(scopes: [["points"]]) }\n'
                "type Card { number: String @external }",
                "2.6",
                '"@key", "@external", "@requires", "@requiresScopes"',
            ),
        },
        "MISSING_TRANSITIVE_AUTH_REQUIREMENTS",
        ("b",),
        ("Member.bonus",),
        ('the transitive field "Member.card" data',),
    ),
    # An invalid key on an interface is reported once, as invalid, not also as missing on the implementations.
    ErrorCase(
        "invalid-key-on-an-interface",
        {
            "a": fed2(
                'type Query { rewards: [Reward] }\ninterface Reward @key(fields: "code") { id: ID! }\n'
                'type Voucher implements Reward @key(fields: "id") { id: ID! }'
            )
        },
        "KEY_INVALID_FIELDS",
        ("a",),
        (),
        ('On type "Reward", for @key(fields: "code")',),
    ),
    ErrorCase(
        "override-on-an-interface-object-field",
        {
            "a": fed2(
                'type Query { rewards: [Reward] }\ninterface Reward @key(fields: "id") { id: ID! }\n'
                'type Voucher implements Reward @key(fields: "id") { id: ID! stock: Int }'
            ),
            "b": fed2('type Reward @key(fields: "id") @interfaceObject { id: ID! stock: Int @override(from: "a") }'),
        },
        "OVERRIDE_COLLISION_WITH_ANOTHER_DIRECTIVE",
        ("b",),
        ("Reward.stock",),
        ("@override is not yet supported on fields of @interfaceObject types",),
    ),
    # The supergraph keeps one definition of a composed directive; an application written against another one
    # would make it invalid. (Apollo refuses it too, with graphql-js's message and no code.)
    ErrorCase(
        "composed-directive-applied-with-an-argument-the-kept-definition-lacks",
        {
            # (The definition of the last subgraph is kept, as Apollo does.)
            "a": _AUDIT_LINK.format("(level: Int)") + "type Query { a: Int @audit(level: 2) }",
            "b": _AUDIT_LINK.format("") + "type Query { b: Int @audit }",
        },
        "INVALID_GRAPHQL",
        ("a", "b"),
        (),
        ('Unknown argument "level" on directive "@audit".',),
        apollo_agrees=False,
    ),
    # A subgraph serving an entity from its own root field but with the key fields @external cannot resolve them,
    # nor reach another subgraph without them.
    ErrorCase(
        "key-fields-external-in-the-subgraph-serving-the-entity",
        {
            "a": fed2('type Member @key(fields: "id") { id: ID! tier: String }'),
            "b": fed2('type Query { member: Member }\ntype Member @key(fields: "id") { id: ID! @external points: Int }'),
        },
        "SATISFIABILITY_ERROR",
        ("b",),
        ("Member.id",),
        ('field "Member.id" is not resolvable because marked @external',),
    ),
    ErrorCase(
        "key-fields-external-with-a-value-type-elsewhere",
        {
            "a": fed2("type Query { other: Member }\ntype Member { id: ID! @shareable tier: String }"),
            "b": fed2('type Query { member: Member }\ntype Member @key(fields: "id") { id: ID! @external points: Int }'),
        },
        "SATISFIABILITY_ERROR",
        ("b",),
        ("Member.id",),
    ),
    ErrorCase(
        "default-value-uses-a-hidden-enum-value",
        {"a": fed2("enum Tier { GOLD @inaccessible SILVER }\ntype Query { count(tiers: [Tier] = [SILVER, GOLD]): Int }")},
        "DEFAULT_VALUE_USES_INACCESSIBLE",
        ("a",),
        ("Query.count(tiers:)",),
        ('Enum value "Tier.GOLD" is @inaccessible but is used in the default value of "Query.count(tiers:)"',),
    ),
    ErrorCase(
        "default-value-sets-a-hidden-input-field",
        {
            "a": fed2(
                "input Filter { name: String @inaccessible after: ID }\n"
                'type Query { search(filter: Filter = {name: "x"}): [String] }'
            )
        },
        "DEFAULT_VALUE_USES_INACCESSIBLE",
        ("a",),
        ("Query.search(filter:)",),
        ('Input field "Filter.name" is @inaccessible but is used in the default value of "Query.search(filter:)"',),
    ),
    ErrorCase(
        "context-read-by-a-type-without-a-resolvable-key",
        {"a": fed2(_CONTEXT_TYPES.format(perk_key="", selection="{ label }"), "2.8", _CONTEXT_IMPORTS)},
        "CONTEXT_NO_RESOLVABLE_KEY",
        ("a",),
        ("Perk.title(owner:)",),
        ('Object "Perk" has no resolvable key but has a field with a contextual argument.',),
    ),
    ErrorCase(
        "context-selection-names-an-unknown-field",
        {"a": fed2(_CONTEXT_TYPES.format(perk_key='@key(fields: "id")', selection="{ nope }"), "2.8", _CONTEXT_IMPORTS)},
        "CONTEXT_INVALID_SELECTION",
        ("a",),
        ("Perk.title(owner:)",),
        ('Context "holder" is used in "Perk.title(owner:)" but the selection is invalid for type Member.',),
    ),
    ErrorCase(
        "context-selection-of-another-type",
        {"a": fed2(_CONTEXT_TYPES.format(perk_key='@key(fields: "id")', selection="{ id }"), "2.8", _CONTEXT_IMPORTS)},
        "CONTEXT_INVALID_SELECTION",
        ("a",),
        ("Perk.title(owner:)",),
        ('the type of the selection "ID!" does not match the expected type "String"',),
    ),
    ErrorCase(
        "context-never-set",
        {
            "a": fed2(
                _CONTEXT_TYPES.format(perk_key='@key(fields: "id")', selection="{ label }").replace(
                    "$holder", "$owner"
                ),
                "2.8",
                _CONTEXT_IMPORTS,
            )
        },
        "CONTEXT_NOT_SET",
        ("a",),
        ("Perk.title(owner:)",),
        ('Context "owner" is used at location "Perk.title(owner:)" but is never set.',),
    ),
    ErrorCase(
        "context-read-by-a-field-less-protected-than-the-context",
        {
            "a": fed2(
                _CONTEXT_TYPES.format(perk_key='@key(fields: "id")', selection="{ label }").replace(
                    'type Member @key(fields: "id")', 'type Member @key(fields: "id") @authenticated'
                ),
                "2.8",
                _CONTEXT_IMPORTS + ', "@authenticated"',
            )
        },
        "MISSING_TRANSITIVE_AUTH_REQUIREMENTS",
        ("a",),
        ("Perk.title",),
        ("to access the transitive data in context a__holder from @fromContext selection set",),
    ),
]
