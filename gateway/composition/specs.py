"""What the federation, join, link and related specs define, per version.

Versions follow Apollo's composer so that our supergraph names the same spec versions: the join version depends on
the newest federation version any subgraph links, and a fed1 subgraph counts as federation 2.4 once upgraded.
"""

from __future__ import annotations

from dataclasses import dataclass

from .links import Version

FEDERATION_IDENTITY = "https://specs.apollo.dev/federation"
LINK_URL = "https://specs.apollo.dev/link/v1.0"
JOIN_IDENTITY = "https://specs.apollo.dev/join"

KNOWN_FEDERATION_VERSIONS = tuple(Version(2, minor) for minor in range(0, 15))
FED1_UPGRADE_VERSION = Version(2, 4)

# Federation directive (spec name) -> first federation version defining it.
FEDERATION_DIRECTIVES: dict[str, Version] = {
    "key": Version(2, 0),
    "requires": Version(2, 0),
    "provides": Version(2, 0),
    "external": Version(2, 0),
    "tag": Version(2, 0),
    "extends": Version(2, 0),
    "shareable": Version(2, 0),
    "inaccessible": Version(2, 0),
    "override": Version(2, 0),
    "composeDirective": Version(2, 1),
    "interfaceObject": Version(2, 3),
    "authenticated": Version(2, 5),
    "requiresScopes": Version(2, 5),
    "policy": Version(2, 6),
    "context": Version(2, 8),
    "fromContext": Version(2, 8),
    "cost": Version(2, 9),
    "listSize": Version(2, 9),
    "cacheTag": Version(2, 12),
}

# Directives a fed1 subgraph may use without any @link: the federation 1 set. The fed2 ones (@shareable,
# @inaccessible, @override, ...) are unknown there, as in Apollo's composer; the upgrade adds @shareable itself.
FED1_DIRECTIVES = frozenset({"key", "requires", "provides", "external", "tag", "extends"})

# Types federation (or a subgraph library) adds to every subgraph; they never reach the supergraph. Types a fed2
# subgraph imports from the federation spec (`FieldSet`, `Scope`, ...) are dropped too, by their imported names.
FEDERATION_TYPE_NAMES = frozenset({"_Any", "_Entity", "_Service", "_FieldSet"})
FEDERATION_ROOT_FIELDS = frozenset({"_entities", "_service"})

# No @oneOf: Apollo's composer (on graphql-js 16) does not know it, so a subgraph must define it, and then it is a
# custom directive like any other (not in the supergraph unless composed).
BUILTIN_DIRECTIVES = frozenset({"deprecated", "specifiedBy", "include", "skip", "defer", "stream"})

# Defaults of federation directive arguments, used when comparing applications.
FEDERATION_ARGUMENT_DEFAULTS: dict[str, dict[str, str]] = {
    "key": {"resolvable": "true"},
    "listSize": {"requireOneSlicingArgument": "true"},
}
BUILTIN_ARGUMENT_DEFAULTS: dict[str, dict[str, str]] = {
    "deprecated": {"reason": '"No longer supported"'},
}


def join_version_for(federation_version: Version) -> Version:
    if federation_version >= Version(2, 8):
        return Version(0, 5)
    if federation_version >= Version(2, 7):
        return Version(0, 4)
    return Version(0, 3)


@dataclass(frozen=True)
class SupergraphFeature:
    """A spec whose directive applications are copied from subgraphs into the supergraph."""

    identity: str
    name: str
    version: str
    purpose: str | None
    # Printed definitions the feature adds to the supergraph (directives and types), by element name.
    directive_definitions: dict[str, str]
    type_definitions: dict[str, str]
    # The federation directives (spec names) whose applications are merged under this feature.
    directives: tuple[str, ...]

    @property
    def url(self) -> str:
        return f"{self.identity}/v{self.version}"


_ROLES = "FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM"

SUPERGRAPH_FEATURES: tuple[SupergraphFeature, ...] = (
    SupergraphFeature(
        identity="https://specs.apollo.dev/tag",
        name="tag",
        version="0.3",
        purpose=None,
        directive_definitions={
            "tag": "directive @tag(name: String!) repeatable on FIELD_DEFINITION | OBJECT | INTERFACE | UNION"
            " | ARGUMENT_DEFINITION | SCALAR | ENUM | ENUM_VALUE | INPUT_OBJECT | INPUT_FIELD_DEFINITION | SCHEMA"
        },
        type_definitions={},
        directives=("tag",),
    ),
    SupergraphFeature(
        identity="https://specs.apollo.dev/inaccessible",
        name="inaccessible",
        version="0.2",
        purpose="SECURITY",
        directive_definitions={
            "inaccessible": "directive @inaccessible on FIELD_DEFINITION | OBJECT | INTERFACE | UNION"
            " | ARGUMENT_DEFINITION | SCALAR | ENUM | ENUM_VALUE | INPUT_OBJECT | INPUT_FIELD_DEFINITION"
        },
        type_definitions={},
        directives=("inaccessible",),
    ),
    SupergraphFeature(
        identity="https://specs.apollo.dev/authenticated",
        name="authenticated",
        version="0.1",
        purpose="SECURITY",
        directive_definitions={"authenticated": f"directive @authenticated on {_ROLES}"},
        type_definitions={},
        directives=("authenticated",),
    ),
    SupergraphFeature(
        identity="https://specs.apollo.dev/requiresScopes",
        name="requiresScopes",
        version="0.1",
        purpose="SECURITY",
        directive_definitions={
            "requiresScopes": f"directive @requiresScopes(scopes: [[requiresScopes__Scope!]!]!) on {_ROLES}"
        },
        type_definitions={"requiresScopes__Scope": "scalar requiresScopes__Scope"},
        directives=("requiresScopes",),
    ),
    SupergraphFeature(
        identity="https://specs.apollo.dev/policy",
        name="policy",
        version="0.1",
        purpose="SECURITY",
        directive_definitions={"policy": f"directive @policy(policies: [[policy__Policy!]!]!) on {_ROLES}"},
        type_definitions={"policy__Policy": "scalar policy__Policy"},
        directives=("policy",),
    ),
    SupergraphFeature(
        identity="https://specs.apollo.dev/context",
        name="context",
        version="0.1",
        purpose="SECURITY",
        directive_definitions={
            "context": "directive @context(name: String!) repeatable on INTERFACE | OBJECT | UNION",
            "context__fromContext": "directive @context__fromContext(field: context__ContextFieldValue)"
            " on ARGUMENT_DEFINITION",
        },
        type_definitions={"context__ContextFieldValue": "scalar context__ContextFieldValue"},
        directives=("context",),
    ),
    SupergraphFeature(
        identity="https://specs.apollo.dev/cost",
        name="cost",
        version="0.1",
        purpose=None,
        directive_definitions={
            "cost": "directive @cost(weight: Int!) on ARGUMENT_DEFINITION | ENUM | FIELD_DEFINITION"
            " | INPUT_FIELD_DEFINITION | OBJECT | SCALAR",
            "listSize": "directive @listSize(assumedSize: Int, slicingArguments: [String!], sizedFields: [String!],"
            " requireOneSlicingArgument: Boolean = true) on FIELD_DEFINITION",
        },
        type_definitions={},
        directives=("cost", "listSize"),
    ),
)

# @cacheTag is not copied as such: it travels as @join__directive, so only the feature's link is added.
CACHE_TAG_FEATURE = SupergraphFeature(
    identity="https://specs.apollo.dev/cacheTag",
    name="cacheTag",
    version="0.1",
    purpose="EXECUTION",
    directive_definitions={},
    type_definitions={},
    directives=(),
)

FEATURE_BY_DIRECTIVE: dict[str, SupergraphFeature] = {d: f for f in SUPERGRAPH_FEATURES for d in f.directives}
REPEATABLE_MERGED_DIRECTIVES = frozenset({"tag", "context"})

JOIN_DIRECTIVE_DEFINITIONS: dict[str, str] = {
    "join__enumValue": "directive @join__enumValue(graph: join__Graph!) repeatable on ENUM_VALUE",
    "join__graph": "directive @join__graph(name: String!, url: String!) on ENUM_VALUE",
    "join__implements": "directive @join__implements(graph: join__Graph!, interface: String!)"
    " repeatable on OBJECT | INTERFACE",
    "join__type": "directive @join__type(graph: join__Graph!, key: join__FieldSet, extension: Boolean! = false,"
    " resolvable: Boolean! = true, isInterfaceObject: Boolean! = false)"
    " repeatable on OBJECT | INTERFACE | UNION | ENUM | INPUT_OBJECT | SCALAR",
    "join__unionMember": "directive @join__unionMember(graph: join__Graph!, member: String!) repeatable on UNION",
}
LINK_DEFINITIONS = (
    "directive @link(url: String, as: String, for: link__Purpose, import: [link__Import]) repeatable on SCHEMA",
    "scalar link__Import",
    'enum link__Purpose {\n  """\n  `SECURITY` features provide metadata necessary to securely resolve fields.\n  """\n'
    '  SECURITY\n\n  """\n  `EXECUTION` features provide metadata necessary for operation execution.\n  """\n'
    "  EXECUTION\n}",
)


def join_definitions(version: Version) -> dict[str, str]:
    """Printed join-spec elements for `version` (0.3 to 0.5), by element name."""
    field_args = (
        "graph: join__Graph, requires: join__FieldSet, provides: join__FieldSet, type: String,"
        " external: Boolean, override: String, usedOverridden: Boolean"
    )
    defs = dict(JOIN_DIRECTIVE_DEFINITIONS)
    defs["join__FieldSet"] = "scalar join__FieldSet"
    if version >= Version(0, 4):
        field_args += ", overrideLabel: String"
        defs["join__directive"] = (
            "directive @join__directive(graphs: [join__Graph!], name: String!, args: join__DirectiveArguments)"
            " repeatable on SCHEMA | OBJECT | INTERFACE | FIELD_DEFINITION"
        )
        defs["join__DirectiveArguments"] = "scalar join__DirectiveArguments"
    if version >= Version(0, 5):
        field_args += ", contextArguments: [join__ContextArgument!]"
        defs["join__FieldValue"] = "scalar join__FieldValue"
        defs["join__ContextArgument"] = (
            "input join__ContextArgument {\n  name: String!\n  type: String!\n  context: String!\n"
            "  selection: join__FieldValue!\n}"
        )
    defs["join__field"] = (
        f"directive @join__field({field_args}) repeatable on FIELD_DEFINITION | INPUT_FIELD_DEFINITION"
    )
    return defs


_ALL_TAG_LOCATIONS = (
    "FIELD_DEFINITION | OBJECT | INTERFACE | UNION | ARGUMENT_DEFINITION | SCALAR | ENUM | ENUM_VALUE | INPUT_OBJECT"
    " | INPUT_FIELD_DEFINITION"
)

# Subgraph-side definitions of the federation directives, used to check their applications (locations, arguments).
# `{scalar}` is replaced by the scalar names given to FieldSet & co in the check.
FEDERATION_DIRECTIVE_DEFINITIONS: dict[str, str] = {
    "key": "(fields: federation__FieldSet!, resolvable: Boolean = true) repeatable on OBJECT | INTERFACE",
    "requires": "(fields: federation__FieldSet!) on FIELD_DEFINITION",
    "provides": "(fields: federation__FieldSet!) on FIELD_DEFINITION",
    "external": "(reason: String) on OBJECT | FIELD_DEFINITION",
    "tag": f"(name: String!) repeatable on {_ALL_TAG_LOCATIONS} | SCHEMA",
    "extends": " on OBJECT | INTERFACE",
    "shareable": " repeatable on OBJECT | FIELD_DEFINITION",
    "inaccessible": f" on {_ALL_TAG_LOCATIONS}",
    "override": "(from: String!, label: String) on FIELD_DEFINITION",
    "composeDirective": "(name: String!) repeatable on SCHEMA",
    "interfaceObject": " on OBJECT",
    "authenticated": " on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM",
    "requiresScopes": "(scopes: [[federation__Scope!]!]!) on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM",
    "policy": "(policies: [[federation__Policy!]!]!) on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM",
    "context": "(name: String!) repeatable on INTERFACE | OBJECT | UNION",
    "fromContext": "(field: federation__ContextFieldValue) on ARGUMENT_DEFINITION",
    "cost": "(weight: Int!) on ARGUMENT_DEFINITION | ENUM | FIELD_DEFINITION | INPUT_FIELD_DEFINITION | OBJECT | SCALAR",
    "listSize": "(assumedSize: Int, slicingArguments: [String!], sizedFields: [String!],"
    " requireOneSlicingArgument: Boolean = true) on FIELD_DEFINITION",
    "cacheTag": "(format: String!) repeatable on OBJECT | FIELD_DEFINITION",
}
FEDERATION_SCALARS = (
    "federation__FieldSet",
    "federation__Scope",
    "federation__Policy",
    "federation__ContextFieldValue",
)
