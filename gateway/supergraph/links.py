"""Which specs a supergraph links (`@link`, or the older `@core`) and under which names.

A spec's directives are named `@<prefix>__<name>` (its root directive just `@<prefix>`), unless
imported under another name; its types are `<prefix>__<Name>`. The gateway needs the join and
inaccessible names to read the supergraph, and every linked name to strip them from the API
schema.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from graphql import DocumentNode, SchemaDefinitionNode, SchemaExtensionNode
from graphql.language import DirectiveNode
from graphql.utilities import value_from_ast_untyped

_SPEC_URL = re.compile(r"^(?P<base>.*/(?P<name>[A-Za-z_][\w-]*))/(?P<version>v\d+\.\d+)/?$")

LINK_SPECS = ("https://specs.apollo.dev/link", "https://specs.apollo.dev/core")


@dataclass(slots=True)
class LinkedSpec:
    url: str
    name: str  # spec name from the url, e.g. "join"
    version: str  # e.g. "v0.3"
    prefix: str  # `as:` or the name
    purpose: str | None
    imports: dict[str, str] = field(default_factory=dict)  # element name -> local name

    @property
    def version_tuple(self) -> tuple[int, int]:
        major, minor = self.version[1:].split(".")
        return int(major), int(minor)

    def directive(self, element: str) -> str:
        """Local name of one of the spec's directives, e.g. join's `type` -> `join__type`."""
        imported = self.imports.get("@" + element)
        if imported:
            return imported[1:]
        if element == self.name:
            return self.prefix
        return f"{self.prefix}__{element}"

    def type_name(self, element: str) -> str:
        imported = self.imports.get(element)
        return imported or f"{self.prefix}__{element}"


@dataclass(slots=True)
class Links:
    specs: list[LinkedSpec]

    def find(self, name: str) -> LinkedSpec | None:
        for spec in self.specs:
            if spec.name == name:
                return spec
        return None

    def owns_directive(self, directive_name: str) -> bool:
        for spec in self.specs:
            if directive_name == spec.prefix or directive_name.startswith(spec.prefix + "__"):
                return True
            if "@" + directive_name in spec.imports.values():
                return True
        return False

    def owns_type(self, type_name: str) -> bool:
        for spec in self.specs:
            if type_name.startswith(spec.prefix + "__") or type_name in spec.imports.values():
                return True
        return False


def _schema_directives(document: DocumentNode) -> list[DirectiveNode]:
    found: list[DirectiveNode] = []
    for definition in document.definitions:
        if isinstance(definition, (SchemaDefinitionNode, SchemaExtensionNode)):
            found.extend(definition.directives or ())
    return found


def _parse_imports(raw: object) -> dict[str, str]:
    imports: dict[str, str] = {}
    for item in raw or []:  # type: ignore[union-attr]
        if isinstance(item, str):
            imports[item] = item
        elif isinstance(item, dict) and "name" in item:
            imports[item["name"]] = item.get("as") or item["name"]
    return imports


def read_links(document: DocumentNode) -> Links:
    """Collect the specs a schema links. The link/core spec itself is found by its url."""
    directives = _schema_directives(document)
    specs: list[LinkedSpec] = []
    # The linking directive may itself be renamed; find it as the one linking a link/core url.
    for directive in directives:
        args = {arg.name.value: value_from_ast_untyped(arg.value) for arg in directive.arguments or ()}
        url = args.get("url") or args.get("feature")
        if not isinstance(url, str):
            continue
        match = _SPEC_URL.match(url)
        if not match:
            continue
        name = match.group("name")
        prefix = args.get("as") if isinstance(args.get("as"), str) else name
        purpose = args.get("for") if isinstance(args.get("for"), str) else None
        specs.append(
            LinkedSpec(
                url=url,
                name=name,
                version=match.group("version"),
                prefix=prefix,  # type: ignore[arg-type]
                purpose=purpose,
                imports=_parse_imports(args.get("import")),
            )
        )
    return Links(specs)
