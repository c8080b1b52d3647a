"""Printing the merged supergraph as SDL in the standard join-spec form (definitions sorted by name, as Apollo does)."""

from __future__ import annotations

from .merged import Supergraph
from .model import Directive
from .sdl import Printer, make_directive, print_description, print_directive
from .specs import JOIN_IDENTITY, LINK_DEFINITIONS, LINK_URL, join_definitions


def _link(url: str, purpose: str | None = None, imports: list | None = None) -> str:
    """`imports` holds directive names (without '@'), or (name in spec, name in supergraph) pairs when renamed."""
    text = f'@link(url: "{url}"'
    if purpose:
        text += f", for: {purpose}"
    if imports:
        shown = [
            f'"@{i.lstrip("@")}"' if isinstance(i, str) else f'{{name: "@{i[0]}", as: "@{i[1]}"}}' for i in imports
        ]
        text += ", import: [" + ", ".join(shown) + "]"
    return text + ")"


def print_supergraph(sup: Supergraph) -> str:
    renamed = sup.directive_names

    def shown(d: Directive) -> str:
        return print_directive(Directive(renamed[d.name], d.args) if d.name in renamed else d)

    printer = Printer(lambda element: [shown(d) for d in getattr(element, "directives", [])])
    schema = print_description(sup.schema_description) + "schema"
    links = [_link(LINK_URL), _link(f"{JOIN_IDENTITY}/v{sup.join_version}", "EXECUTION")]
    for feature in sup.features:
        links.append(_link(feature.url, feature.purpose, sup.feature_imports.get(feature.name)))
    for composed in sup.composed.features:
        links.append(_link(composed.link.url, None, composed.imports()))
    for line in links + [shown(d) for d in sup.schema_directives]:
        schema += f"\n  {line}"
    schema += "\n{\n" + "\n".join(f"  {kind}: {name}" for kind, name in sup.roots.items()) + "\n}"

    directives: dict[str, str] = {}
    types: dict[str, str] = {}
    for name, text in join_definitions(sup.join_version).items():
        (types if text.startswith(("scalar", "input", "enum")) else directives)[name] = text
    directives["link"] = LINK_DEFINITIONS[0]
    types["link__Import"] = LINK_DEFINITIONS[1]
    types["link__Purpose"] = LINK_DEFINITIONS[2]
    for feature in sup.features:
        imported = {i.lstrip("@") if isinstance(i, str) else i[0] for i in sup.feature_imports.get(feature.name, [])}
        for name, text in feature.directive_definitions.items():
            shown_name = renamed.get(name, name)
            if name != feature.name and name not in imported and not name.startswith(f"{feature.name}__"):
                # A directive of the spec that no subgraph uses is not imported: it goes by its namespaced name.
                shown_name = f"{feature.name}__{name}"
            directives[shown_name] = text.replace(f"directive @{name}", f"directive @{shown_name}", 1)
        types.update(feature.type_definitions)
    for d in sup.directive_defs.values():
        directives[d.name] = printer.directive_def(d)
    graph_values = [
        f"  {value} {print_directive(_graph_directive(name, sg_url))}"
        for name, value, sg_url in ((s.name, sup.graph_enum[s.name], s.url) for s in sup.subgraphs)
    ]
    types["join__Graph"] = "enum join__Graph {\n" + "\n".join(graph_values) + "\n}"
    for t in sup.types.values():
        types[t.name] = printer.type_def(t)

    def ordered(defs: dict[str, str]) -> list[str]:
        return [defs[k] for k in sorted(defs, key=lambda n: (n.lower(), n))]

    return "\n\n".join([schema, *ordered(directives), *ordered(types)]) + "\n"


def _graph_directive(name: str, url: str) -> Directive:
    return make_directive("join__graph", name=name, url=url)
