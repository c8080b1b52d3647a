"""Who may see what: `@authenticated`, `@requiresScopes` and `@policy` as the supergraph carries them.

Composition keeps these directives in the supergraph (linked to the `authenticated`,
`requiresScopes` and `policy` specs); this module reads them into plain data. Deciding what a
caller may see from them is the planner's job (`planning/authorization.py`).

A requirement on a type guards every field that returns the type and every fragment on it. A
field of an interface carries the requirements of that field on each implementation too, so
asking through the interface is no way around them (Apollo's composer does the same).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from graphql import GraphQLInterfaceType, GraphQLObjectType, GraphQLSchema
from graphql.language import Node
from graphql.utilities import value_from_ast_untyped

from .links import Links

# An OR of ANDs, as written in the directives: [["a", "b"], ["c"]] is (a and b) or c.
Alternatives = tuple[frozenset[str], ...]


@dataclass(frozen=True, slots=True)
class Requirement:
    """Every part must hold: each entry of `scopes` and of `policies` is one directive's OR of ANDs."""

    authenticated: bool = False
    scopes: tuple[Alternatives, ...] = ()
    policies: tuple[Alternatives, ...] = ()

    def __bool__(self) -> bool:
        return self.authenticated or bool(self.scopes) or bool(self.policies)

    def both(self, other: Requirement) -> Requirement:
        if not other:
            return self
        if not self:
            return other
        return Requirement(
            self.authenticated or other.authenticated,
            _unique(self.scopes + other.scopes),
            _unique(self.policies + other.policies),
        )


NO_REQUIREMENT = Requirement()


@dataclass(slots=True)
class AccessRules:
    types: dict[str, Requirement] = field(default_factory=dict)
    fields: dict[tuple[str, str], Requirement] = field(default_factory=dict)
    scopes: frozenset[str] = frozenset()  # every scope any rule names
    policies: frozenset[str] = frozenset()  # every policy any rule names

    def __bool__(self) -> bool:
        return bool(self.types or self.fields)

    def of_type(self, type_name: str) -> Requirement:
        return self.types.get(type_name, NO_REQUIREMENT)

    def of_field(self, type_name: str, field_name: str) -> Requirement:
        return self.fields.get((type_name, field_name), NO_REQUIREMENT)


def _unique(items: tuple[Alternatives, ...]) -> tuple[Alternatives, ...]:
    return tuple(dict.fromkeys(items))


def _alternatives(raw: Any) -> Alternatives:
    if not isinstance(raw, list):
        return ()
    return tuple(frozenset(str(item) for item in group) for group in raw if isinstance(group, list))


class _Reader:
    def __init__(self, links: Links) -> None:
        def name_of(spec_name: str) -> str | None:
            spec = links.find(spec_name)
            return spec.directive(spec_name) if spec else None

        self.authenticated = name_of("authenticated")
        self.requires_scopes = name_of("requiresScopes")
        self.policy = name_of("policy")

    @property
    def linked(self) -> bool:
        return any((self.authenticated, self.requires_scopes, self.policy))

    def requirement(self, nodes: Iterable[Node | None]) -> Requirement:
        found = NO_REQUIREMENT
        for node in nodes:
            for directive in getattr(node, "directives", None) or ():
                name = directive.name.value
                args = {a.name.value: value_from_ast_untyped(a.value) for a in directive.arguments or ()}
                if name == self.authenticated:
                    found = found.both(Requirement(authenticated=True))
                elif name == self.requires_scopes:
                    found = found.both(Requirement(scopes=(_alternatives(args.get("scopes")),)))
                elif name == self.policy:
                    found = found.both(Requirement(policies=(_alternatives(args.get("policies")),)))
        return found


def _nodes(named: Any) -> list[Node]:
    return [n for n in (getattr(named, "ast_node", None), *(getattr(named, "extension_ast_nodes", None) or ())) if n]


def read_access_rules(schema: GraphQLSchema, links: Links) -> AccessRules:
    reader = _Reader(links)
    rules = AccessRules()
    if not reader.linked:
        return rules
    for name, named in schema.type_map.items():
        if name.startswith("__") or links.owns_type(name):
            continue
        requirement = reader.requirement(_nodes(named))
        if requirement:
            rules.types[name] = requirement
        if isinstance(named, (GraphQLObjectType, GraphQLInterfaceType)):
            for field_name, definition in named.fields.items():
                requirement = reader.requirement([definition.ast_node])
                if requirement:
                    rules.fields[(name, field_name)] = requirement
    _inherit_on_interfaces(schema, rules)
    every = [*rules.types.values(), *rules.fields.values()]
    rules.scopes = frozenset(s for r in every for alternatives in r.scopes for group in alternatives for s in group)
    rules.policies = frozenset(p for r in every for alternatives in r.policies for group in alternatives for p in group)
    return rules


def _inherit_on_interfaces(schema: GraphQLSchema, rules: AccessRules) -> None:
    for named in schema.type_map.values():
        if not isinstance(named, GraphQLInterfaceType):
            continue
        for implementation in schema.get_possible_types(named):
            for field_name in named.fields:
                inherited = rules.of_field(implementation.name, field_name)
                if inherited:
                    rules.fields[(named.name, field_name)] = rules.of_field(named.name, field_name).both(inherited)
