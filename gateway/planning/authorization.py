"""Removing from an operation what the caller may not see, before it is planned.

The supergraph's `@authenticated`, `@requiresScopes` and `@policy` (read in
`supergraph/access.py`) are checked against what is known of the caller (`Grants`). A refused
field is taken out of the operation the planner sees, so no subgraph is asked for it; the
response answers it with null (`Authorization.denied`) and one `UNAUTHORIZED_FIELD_OR_TYPE`
error at its path, as Apollo Router does (paths are the operation's response keys, `@` standing
for every item of a list). The rest of the operation runs.

What is checked for a field: its own requirements, those of the type it returns, and, when it is
asked directly on an interface or union, those of every object type that could answer it (an
object type's requirement cannot be got round by asking through an interface). A fragment on a
type the caller may not see is refused as a whole.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..supergraph.access import AccessRules, Alternatives, Requirement
from ..supergraph.model import Supergraph, describe_type
from .operation import FieldSelection, FragmentSelection, Operation, Selection, make_field

UNAUTHORIZED = "UNAUTHORIZED_FIELD_OR_TYPE"

log = logging.getLogger("gateway")


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is asking, as the HTTP layer verified it: anonymous unless `authenticated`."""

    authenticated: bool = False
    scopes: frozenset[str] = frozenset()
    principal: Any = None  # the verified principal itself, for policy functions


ANONYMOUS_CALLER = Caller()

# A named `@policy`: the gateway asks it once per request whether the caller satisfies it.
Policy = Callable[[Caller], bool]


@dataclass(frozen=True, slots=True)
class Grants:
    """What decides access for one supergraph: only scopes and policies its rules name, so callers
    who differ in nothing that matters share cached plans."""

    authenticated: bool = False
    scopes: frozenset[str] = frozenset()
    policies: frozenset[str] = frozenset()


def grants_for(caller: Caller, rules: AccessRules, policies: Mapping[str, Policy]) -> Grants:
    """Policies nobody registered are never granted, nor one that fails: a policy refuses, it
    never opens by accident."""
    granted = frozenset(name for name in rules.policies if _grants(name, policies.get(name), caller))
    return Grants(caller.authenticated, caller.scopes & rules.scopes, granted)


def _grants(name: str, policy: Policy | None, caller: Caller) -> bool:
    if policy is None:
        return False
    try:
        return policy(caller) is True
    except Exception:
        log.exception("policy %r failed; refusing what it guards", name)
        return False


def _holds(alternatives: Alternatives, granted: frozenset[str]) -> bool:
    return any(group <= granted for group in alternatives)


def satisfied(requirement: Requirement, grants: Grants) -> bool:
    if requirement.authenticated and not grants.authenticated:
        return False
    return all(_holds(a, grants.scopes) for a in requirement.scopes) and all(
        _holds(a, grants.policies) for a in requirement.policies
    )


@dataclass(slots=True)
class Authorization:
    operation: Operation  # what to plan: the refused parts taken out
    shaped: Operation  # what the response is shaped by: the client's operation
    denied: frozenset[int]  # ids of `shaped`'s fields that are answered null
    errors: tuple[dict[str, Any], ...]

    def error_list(self) -> list[dict[str, Any]]:
        """The errors as new objects: authorizations are cached with plans, responses are not."""
        return [{**e, "path": list(e["path"]), "extensions": dict(e["extensions"])} for e in self.errors]


def authorize(supergraph: Supergraph, operation: Operation, grants: Grants | None) -> Authorization:
    """The operation as this caller may run it (all of it when `grants` is None: the supergraph
    has no access rules). Fields keep their identity where nothing under them was refused."""
    if grants is None:
        return Authorization(operation, operation, frozenset(), ())
    walk = _Walk(supergraph, grants)
    root = supergraph.mutation_type if operation.kind == "mutation" else supergraph.query_type
    selections = walk.selections(root or "", operation.selections, ())
    if not walk.errors:
        return Authorization(operation, operation, frozenset(), ())
    allowed = dataclasses.replace(operation, selections=selections, shape_cache={})
    # The shaper memoizes per operation object, and what is null differs per caller: a copy.
    shaped = dataclasses.replace(operation, shape_cache={})
    return Authorization(allowed, shaped, frozenset(walk.denied), tuple(walk.errors))


class _Walk:
    def __init__(self, supergraph: Supergraph, grants: Grants) -> None:
        self.sg = supergraph
        self.rules = supergraph.access
        self.grants = grants
        self.denied: set[int] = set()
        self.errors: list[dict[str, Any]] = []

    def refuse(self, path: tuple[Any, ...]) -> None:
        self.errors.append(
            {"message": "Unauthorized field or type", "path": list(path), "extensions": {"code": UNAUTHORIZED}}
        )

    def requirement(self, parent: str, name: str, returns: str, direct_on_abstract: bool) -> Requirement:
        found = self.rules.of_field(parent, name).both(self.rules.of_type(returns))
        if direct_on_abstract:
            for possible in self.sg.possible_types(parent):
                found = found.both(self.rules.of_type(possible))
        return found

    def selections(
        self, parent: str, selections: tuple[Selection, ...], path: tuple[Any, ...]
    ) -> tuple[Selection, ...]:
        kept: list[Selection] = []
        abstract = self.sg.is_abstract(parent)
        for sel in selections:
            if isinstance(sel, FragmentSelection):
                fragment = self.fragment(parent, sel, path)
                if fragment is not None:
                    kept.append(fragment)
                continue
            field = self.field(parent, sel, path, abstract)
            if field is not None:
                kept.append(field)
        return tuple(kept)

    def fragment(
        self, parent: str, fragment: FragmentSelection, path: tuple[Any, ...]
    ) -> FragmentSelection | None:
        condition = fragment.type_condition or parent
        if condition != parent and not satisfied(self.rules.of_type(condition), self.grants):
            self.deny_all(fragment.selections)
            self.refuse(path)
            return None
        inner = self.selections(condition, fragment.selections, path)
        if not inner:
            return None
        return fragment if inner == fragment.selections else FragmentSelection(fragment.type_condition, inner)

    def field(
        self, parent: str, field: FieldSelection, path: tuple[Any, ...], abstract: bool
    ) -> FieldSelection | None:
        definition = self.sg.field_def(parent, field.name)
        if field.name.startswith("__") or definition is None:
            return field  # __typename, introspection; validation has vouched for the rest
        returns, depth = describe_type(definition.type)
        here = path + (field.key,)
        if not satisfied(self.requirement(parent, field.name, returns, abstract), self.grants):
            self.denied.add(id(field))
            self.refuse(here)
            return None
        if field.selections is None:
            return field
        inner = self.selections(returns, field.selections, here + ("@",) * depth)
        if inner == field.selections:
            return field
        if not inner:  # everything below was refused; a selection set cannot be empty
            inner = (make_field("__typename", "__typename"),)
        return dataclasses.replace(field, selections=inner)

    def deny_all(self, selections: tuple[Selection, ...]) -> None:
        for sel in selections:
            if isinstance(sel, FieldSelection):
                self.denied.add(id(sel))
            else:
                self.deny_all(sel.selections)
