"""Subgraph sets that Apollo's composer refuses and ours once accepted (or refused with another code): each with the
error a user should get. Part of composition_cases.CASES, so the Apollo reference test checks the codes too."""

from __future__ import annotations

from composition_support import fed2
from error_case import ErrorCase

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

_TWO_CONTEXT_TYPES = (
    'type Query {{ member: Member offer: Offer }}\ntype Member @key(fields: "id") @context(name: "holder")'
    " {{ id: ID! label: String perks: [Perk] }}\n"
    'type Offer @key(fields: "id") @context(name: "holder") {{ id: ID! label: String! code: Int perks: [Perk] }}\n'
    'type Perk @key(fields: "id") {{ id: ID! title(owner: String @fromContext(field: "$holder {selection}")): String }}'
)

_OVERRIDE_IMPORTS = '"@key", "@external", "@requires", "@override"'
_OVERRIDE_TYPES = 'type Query {{ member: Member }}\ntype Member @key(fields: "id") {{ id: ID! {0} }}'

APOLLO_PARITY_CASES: list[ErrorCase] = [
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
    ErrorCase(
        "context-type-conditions-missing-a-context-type",
        {
            "a": fed2(
                _TWO_CONTEXT_TYPES.format(selection="... on Member { label } ... on Query { label }"),
                "2.8",
                _CONTEXT_IMPORTS,
            )
        },
        "CONTEXT_INVALID_SELECTION",
        ("a",),
        ("Perk.title(owner:)",),
        ('no type condition matches the location "Offer"',),
    ),
    ErrorCase(
        "context-type-condition-selecting-another-type",
        {
            "a": fed2(
                _TWO_CONTEXT_TYPES.format(selection="... on Member { label } ... on Offer { code }"),
                "2.8",
                _CONTEXT_IMPORTS,
            )
        },
        "CONTEXT_INVALID_SELECTION",
        ("a",),
        ("Perk.title(owner:)",),
        ('the type of the selection "Int" does not match the expected type "String"',),
    ),
    # Apollo's composer does not follow a progressive @override (one with a label) inside a @requires condition:
    # a field required from subgraphs that share it that way cannot be satisfied.
    ErrorCase(
        "requires-a-field-under-progressive-override",
        {
            "a": fed2(_OVERRIDE_TYPES.format("level: Int"), "2.8", _OVERRIDE_IMPORTS),
            "b": fed2(
                'type Member @key(fields: "id") { id: ID! level: Int @override(from: "a", label: "percent(50)") }',
                "2.8",
                _OVERRIDE_IMPORTS,
            ),
            "c": fed2(
                'type Member @key(fields: "id") { id: ID! level: Int @external bonus: Int @requires(fields: "level") }',
                "2.8",
                _OVERRIDE_IMPORTS,
            ),
        },
        "SATISFIABILITY_ERROR",
        ("a",),
        ("Member.bonus",),
        ('cannot satisfy @require conditions on field "Member.bonus"',),
    ),
    # Subgraphs are checked before federation 1 ones are upgraded: a broken rule is reported, not what the upgrade
    # would have found (here an extension with no base).
    ErrorCase(
        "rules-before-the-federation-1-upgrade",
        {
            "a": fed2('type Query { member: Member }\ntype Member @key(fields: "code") { id: ID! }'),
            "legacy": 'type Query { hello: String }\nextend type Store @key(fields: "id") { id: ID! @external open: Boolean }',
        },
        "KEY_INVALID_FIELDS",
        ("a",),
        (),
    ),
]
