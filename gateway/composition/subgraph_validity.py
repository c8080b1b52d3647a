"""GraphQL validity of one subgraph, checked with graphql-core and worded as graphql-js (so Apollo) words it.

The subgraph is printed back with the definitions of the federation directives it uses, then run through
graphql-core's SDL and schema validation; the few rules graphql-core has and Apollo's composer does not apply are
left out.
"""

from __future__ import annotations

import re
from typing import Any, Protocol

from graphql import GraphQLError, build_ast_schema, parse, validate_schema
from graphql.validation.validate import validate_sdl

from .errors import Code, CompositionError, error
from .model import BUILTIN_SCALARS, Directive, TypeKind
from .sdl import Printer, print_directive
from .specs import FEDERATION_DIRECTIVE_DEFINITIONS, FEDERATION_SCALARS

class Subgraph(Protocol):
    """What this check reads of a parsed subgraph (`subgraph.Subgraph`, which imports this module)."""

    name: str
    types: dict[str, Any]
    directive_defs: dict[str, Any]
    roots: dict[str, str]
    schema_fed: dict[str, Any]
    schema_directives: list[Any]


def _all_directives(element: object) -> list[Directive]:
    out = list(getattr(element, "directives", []))
    for applications in getattr(element, "fed", {}).values():
        out.extend(applications)
    return out


def _federation_definitions(sg: Subgraph) -> list[str]:
    """Definitions, under the names the subgraph uses, of the federation directives it applies."""
    used: dict[str, str] = {}

    def scan(element: object) -> None:
        for spec, applications in getattr(element, "fed", {}).items():
            for d in applications:
                used[d.name] = spec

    scan(_SchemaHolder(sg))
    for t in sg.types.values():
        scan(t)
        for f in t.fields.values():
            scan(f)
            for a in f.args.values():
                scan(a)
        for child in [*t.input_fields.values(), *t.values.values()]:
            scan(child)
    for d in sg.directive_defs.values():
        for a in d.args.values():
            scan(a)
    definitions = [f"scalar {name}" for name in FEDERATION_SCALARS if name not in sg.types]
    definitions += [f"directive @{local}{FEDERATION_DIRECTIVE_DEFINITIONS[spec]}" for local, spec in used.items()]
    return definitions


class _SchemaHolder:
    def __init__(self, sg: Subgraph):
        self.fed = sg.schema_fed


def check_graphql_validity(sg: Subgraph) -> list[CompositionError]:
    """Runs graphql-core's SDL and schema validation on the subgraph: types, implementations, and where and with
    which arguments directives (federation ones included) are applied."""
    printer = Printer(lambda element: [print_directive(d) for d in _all_directives(element)])
    parts = [printer.directive_def(d) for d in sg.directive_defs.values()]
    parts += _federation_definitions(sg)
    parts += [
        printer.type_def(t)
        for t in sg.types.values()
        if t.name not in BUILTIN_SCALARS and not (t.kind is TypeKind.OBJECT and not t.fields and t.name == "Query")
    ]
    roots = {k: v for k, v in sg.roots.items() if v in sg.types and (sg.types[v].fields or v != "Query")}
    if "query" not in roots:
        # graphql-core insists on a query root; a subgraph may legitimately have none.
        roots["query"] = "CompositionPlaceholderQuery_"
        parts.append("type CompositionPlaceholderQuery_ { _: Int }")
    schema_directives = " ".join(
        print_directive(d) for d in [*sg.schema_directives, *_all_directives(_SchemaHolder(sg))]
    )
    parts.append(f"schema {schema_directives} {{ " + ", ".join(f"{k}: {v}" for k, v in roots.items()) + " }")
    try:
        document = parse("\n\n".join(parts), no_location=True)
        problems = list(validate_sdl(document))
        if not problems:
            problems = list(validate_schema(build_ast_schema(document, assume_valid_sdl=True)))
    except GraphQLError as exc:
        problems = [exc]
    except (TypeError, ValueError) as exc:
        problems = [GraphQLError(str(exc))]
    messages = dict.fromkeys(_clean(p.message) for p in problems if not unchecked_by_apollo(p.message))
    return [error(Code.INVALID_GRAPHQL, f"[{sg.name}] {m}", [sg.name]) for m in messages]


def unchecked_by_apollo(message: str) -> bool:
    """graphql-core 3.3 rules that Apollo's composer does not apply, so it composes such schemas: an implementation
    may deprecate a field its interface does not (graphql-js 16 has no such rule), and a default input object may
    leave out a required field (Apollo's own default-value check does not look for them)."""
    return "must not be deprecated" in message or (
        "has invalid default value" in message and "to include required field" in message
    )


def _clean(message: str) -> str:
    # Word graphql-core's messages as graphql-js (and so Apollo) does where they differ.
    message = re.sub(r"'(@?[_A-Za-z][_0-9A-Za-z]*(\([_A-Za-z]*:\))?[!\]\[]*)'", r'"\1"', message)
    message = re.sub(
        r"may not be used on ([a-z ]+)\.$",
        lambda m: f"may not be used on {m.group(1).upper().replace(' ', '_')}.",
        message,
    )
    message = re.sub(r'^Argument "@([^(]+)\(([^:]+):\)" of type', r'Directive "@\1" argument "\2" of type', message)
    match = re.match(r'^Unknown type "([^"]+)"\.(.*)$', message, re.S)
    if match:
        message = f"Unknown type {match.group(1)}" + (f".{match.group(2)}" if match.group(2).strip() else "")
    return message.replace("\n\n", " ").strip()
