"""`@link` handling: feature URLs, versions and the names a schema gives to a feature's directives.

A fed2 subgraph says which federation directives it uses through
`@link(url: "https://specs.apollo.dev/federation/v2.x", as: ..., import: [...])`; imported directives keep their
(possibly renamed) short name and every other one is reachable as `@<namespace>__<name>`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from graphql.language import ListValueNode, ObjectValueNode, StringValueNode, ValueNode

_URL_RE = re.compile(r"^(?P<identity>.*/(?P<name>[A-Za-z_][A-Za-z0-9_-]*))/v(?P<major>\d+)\.(?P<minor>\d+)/?$")


@dataclass(frozen=True, order=True)
class Version:
    major: int
    minor: int

    @staticmethod
    def parse(text: str) -> Version:
        major, minor = text.lstrip("v").split(".")
        return Version(int(major), int(minor))

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"


@dataclass(frozen=True)
class FeatureUrl:
    identity: str
    name: str
    version: Version

    @staticmethod
    def parse(url: str) -> FeatureUrl | None:
        match = _URL_RE.match(url.split("?")[0].split("#")[0])
        if not match:
            return None
        version = Version(int(match["major"]), int(match["minor"]))
        return FeatureUrl(match["identity"], match["name"], version)

    def __str__(self) -> str:
        return f"{self.identity}/v{self.version}"


@dataclass
class Link:
    """One `@link` application on a schema."""

    url: str
    feature: FeatureUrl | None
    namespace: str
    # directive name in the spec (no '@') -> name used in this schema
    imported_directives: dict[str, str] = field(default_factory=dict)
    imported_types: dict[str, str] = field(default_factory=dict)
    purpose: str | None = None

    def directive_name_in_schema(self, spec_name: str) -> str:
        """The name this schema uses for the spec directive `spec_name`."""
        if spec_name in self.imported_directives:
            return self.imported_directives[spec_name]
        if self.feature is not None and spec_name == self.feature.name:
            # A spec's eponymous directive (`@tag` of the tag spec) is named after the namespace.
            return self.namespace
        return f"{self.namespace}__{spec_name}"

    def spec_directive_for(self, name_in_schema: str) -> str | None:
        """The spec name of a directive used as `@name_in_schema`, if it belongs to this link."""
        for spec_name, local in self.imported_directives.items():
            if local == name_in_schema:
                return spec_name
        if self.feature is not None and name_in_schema == self.namespace:
            return self.feature.name
        prefix = f"{self.namespace}__"
        if name_in_schema.startswith(prefix):
            return name_in_schema[len(prefix) :]
        return None


class LinkError(ValueError):
    pass


def _string(value: ValueNode | None) -> str | None:
    return value.value if isinstance(value, StringValueNode) else None


def parse_link(args: dict[str, ValueNode]) -> Link:
    url = _string(args.get("url"))
    if url is None:
        raise LinkError('@link requires a string "url" argument')
    feature = FeatureUrl.parse(url)
    namespace = _string(args.get("as")) or (feature.name if feature else "")
    link = Link(url=url, feature=feature, namespace=namespace)
    purpose = args.get("for")
    if purpose is not None and hasattr(purpose, "value"):
        link.purpose = str(purpose.value)
    imports = args.get("import")
    if imports is None:
        return link
    items = imports.values if isinstance(imports, ListValueNode) else (imports,)
    for item in items:
        name: str | None
        alias: str | None
        if isinstance(item, StringValueNode):
            name, alias = item.value, item.value
        elif isinstance(item, ObjectValueNode):
            fields = {f.name.value: _string(f.value) for f in item.fields}
            name, alias = fields.get("name"), fields.get("as") or fields.get("name")
        else:
            raise LinkError(f"invalid @link import {item!r} for {url}")
        if not name or not alias:
            raise LinkError(f'invalid @link import for {url}: an import needs a "name"')
        if name.startswith("@") != alias.startswith("@"):
            raise LinkError(
                f'invalid @link import "{name}" as "{alias}" for {url}: cannot rename a directive as a type'
            )
        if name.startswith("@"):
            link.imported_directives[name[1:]] = alias[1:]
        else:
            link.imported_types[name] = alias
    return link
