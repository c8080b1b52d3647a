"""@composeDirective: custom type-system directives that subgraphs ask to keep in the supergraph.

A composed directive must come from a `@link`ed feature (not one of the federation/Apollo specs); the supergraph links
the newest version of that feature and takes the directive's definition from a subgraph linking that version.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from graphql.language import StringValueNode

from .errors import Code, CompositionError, error
from .links import Link
from .model import DirectiveDef
from .subgraph import Subgraph

_DISALLOWED = frozenset(
    f"https://specs.apollo.dev/{name}"
    for name in (
        "core",
        "join",
        "link",
        "tag",
        "inaccessible",
        "federation",
        "authenticated",
        "requiresScopes",
        "source",
        "context",
        "cost",
    )
)


@dataclass
class ComposedFeature:
    link: Link
    # name used in the supergraph -> name in the feature
    directives: dict[str, str] = field(default_factory=dict)
    definitions: dict[str, DirectiveDef] = field(default_factory=dict)

    def imports(self) -> list[str | tuple[str, str]]:
        return [name if name == orig else (orig, name) for name, orig in self.directives.items()]


@dataclass
class ComposedDirectives:
    features: list[ComposedFeature] = field(default_factory=list)
    # subgraph name -> directive names whose applications that subgraph contributes
    per_subgraph: dict[str, set[str]] = field(default_factory=dict)

    def definition(self, name: str) -> DirectiveDef | None:
        for f in self.features:
            if name in f.definitions:
                return f.definitions[name]
        return None


@dataclass
class _Item:
    subgraph: Subgraph
    link: Link
    orig: str
    name: str


def collect_composed_directives(subgraphs: list[Subgraph]) -> tuple[ComposedDirectives, list[CompositionError]]:
    errors: list[CompositionError] = []
    items: list[_Item] = []
    for sg in subgraphs:
        for application in sg.schema_fed.get("composeDirective", []):
            value = application.args.get("name")
            raw = value.value if isinstance(value, StringValueNode) else ""
            if not raw:
                errors.append(
                    _err(f'Argument to @composeDirective in subgraph "{sg.name}" cannot be NULL or an empty String', sg)
                )
                continue
            if not raw.startswith("@"):
                errors.append(
                    _err(f'Argument to @composeDirective "{raw}" in subgraph "{sg.name}" must have a leading "@"', sg)
                )
                continue
            name = raw[1:]
            if name not in sg.directive_defs:
                errors.append(
                    _err(
                        f'Could not find matching directive definition for argument to @composeDirective "@{name}" in'
                        f' subgraph "{sg.name}".',
                        sg,
                    )
                )
                continue
            link = next((lk for lk in sg.links if lk.feature and lk.spec_directive_for(name)), None)
            if link is None or link.feature is None:
                errors.append(
                    _err(
                        f'Directive "@{name}" in subgraph "{sg.name}" cannot be composed because it is not a member of a'
                        " core feature",
                        sg,
                    )
                )
                continue
            if link.feature.identity in _DISALLOWED:
                errors.append(
                    _err(f'Composing federation directive "{raw}" in subgraph "{sg.name}" is not supported', sg)
                )
                continue
            items.append(_Item(sg, link, link.spec_directive_for(name) or name, name))
    result = ComposedDirectives()
    by_identity: dict[str, list[_Item]] = {}
    for item in items:
        by_identity.setdefault(item.link.feature.identity, []).append(item)  # type: ignore[union-attr]
    for identity, group in by_identity.items():
        majors = {i.link.feature.version.major for i in group}  # type: ignore[union-attr]
        if len(majors) > 1:
            errors.append(
                error(
                    Code.DIRECTIVE_COMPOSITION_ERROR,
                    f'Core feature "{identity}" requested to be merged has major version mismatch across subgraphs',
                    [i.subgraph.name for i in group],
                )
            )
            continue
        for name in {i.name for i in group}:
            named = [i for i in group if i.name == name]
            if len({i.orig for i in named}) > 1:
                errors.append(
                    error(
                        Code.DIRECTIVE_COMPOSITION_ERROR,
                        f'Composed directive "@{name}" does not refer to the same directive in every subgraph',
                        [i.subgraph.name for i in named],
                    )
                )
        latest = max(
            (lk for sg in subgraphs for lk in sg.links if lk.feature and lk.feature.identity == identity),
            key=lambda lk: lk.feature.version,  # type: ignore[union-attr]
        )
        feature = ComposedFeature(latest)
        holders = [sg for sg in subgraphs for lk in sg.links if lk.feature == latest.feature]
        for item in group:
            feature.directives.setdefault(item.name, item.orig)
            result.per_subgraph.setdefault(item.subgraph.name, set()).add(item.name)
        for name, orig in feature.directives.items():
            definition = None
            for sg in reversed(holders):
                link = next(lk for lk in sg.links if lk.feature == latest.feature)
                definition = sg.directive_defs.get(link.directive_name_in_schema(orig))
                if definition is not None:
                    break
            if definition is None:
                names = ", ".join(f'"{sg.name}"' for sg in holders)
                errors.append(
                    error(
                        Code.DIRECTIVE_COMPOSITION_ERROR,
                        f'Core feature "{latest.feature}" in subgraph {names} does not have a directive definition for'
                        f' "@{name}"',
                        [sg.name for sg in holders],
                    )
                )
                continue
            feature.definitions[name] = definition
        result.features.append(feature)
    return result, errors


def _err(message: str, sg: Subgraph) -> CompositionError:
    return error(Code.DIRECTIVE_COMPOSITION_ERROR, message, [sg.name])
