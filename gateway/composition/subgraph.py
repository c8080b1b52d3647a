"""Reading a subgraph SDL into the composition model.

This resolves federation directives through the subgraph's `@link` (imports, renames, namespaces) so later stages
see canonical names ("key", "external", ...), renames root types to their default names, and drops what federation
adds to a subgraph (`_entities`, `_service`, `_Any`, link and federation types and directive definitions).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from graphql import GraphQLSyntaxError
from graphql.language import (
    ConstDirectiveNode,
    DirectiveDefinitionNode,
    DocumentNode,
    EnumTypeDefinitionNode,
    EnumTypeExtensionNode,
    FieldDefinitionNode,
    InputObjectTypeDefinitionNode,
    InputObjectTypeExtensionNode,
    InputValueDefinitionNode,
    InterfaceTypeDefinitionNode,
    InterfaceTypeExtensionNode,
    ObjectTypeDefinitionNode,
    ObjectTypeExtensionNode,
    ScalarTypeDefinitionNode,
    ScalarTypeExtensionNode,
    SchemaDefinitionNode,
    SchemaExtensionNode,
    UnionTypeDefinitionNode,
    UnionTypeExtensionNode,
    parse,
)

from .errors import Code, CompositionError, error
from .links import Link, LinkError, Version, parse_link
from .model import (
    DEFAULT_ROOT_NAMES,
    ROOT_KINDS,
    Directive,
    DirectiveDef,
    EnumValue,
    FedDirectives,
    Field,
    InputValue,
    TypeDef,
    TypeKind,
    TypeRef,
)
from .specs import (
    BUILTIN_DIRECTIVES,
    FED1_DIRECTIVES,
    FEDERATION_DIRECTIVES,
    FEDERATION_IDENTITY,
    FEDERATION_ROOT_FIELDS,
    FEDERATION_TYPE_NAMES,
    KNOWN_FEDERATION_VERSIONS,
)
from .subgraph_validity import check_graphql_validity

_KIND_BY_NODE: dict[type, tuple[TypeKind, bool]] = {
    ScalarTypeDefinitionNode: (TypeKind.SCALAR, False),
    ScalarTypeExtensionNode: (TypeKind.SCALAR, True),
    ObjectTypeDefinitionNode: (TypeKind.OBJECT, False),
    ObjectTypeExtensionNode: (TypeKind.OBJECT, True),
    InterfaceTypeDefinitionNode: (TypeKind.INTERFACE, False),
    InterfaceTypeExtensionNode: (TypeKind.INTERFACE, True),
    UnionTypeDefinitionNode: (TypeKind.UNION, False),
    UnionTypeExtensionNode: (TypeKind.UNION, True),
    EnumTypeDefinitionNode: (TypeKind.ENUM, False),
    EnumTypeExtensionNode: (TypeKind.ENUM, True),
    InputObjectTypeDefinitionNode: (TypeKind.INPUT_OBJECT, False),
    InputObjectTypeExtensionNode: (TypeKind.INPUT_OBJECT, True),
}


@dataclass
class Subgraph:
    name: str
    url: str
    types: dict[str, TypeDef] = field(default_factory=dict)
    directive_defs: dict[str, DirectiveDef] = field(default_factory=dict)
    roots: dict[str, str] = field(default_factory=dict)
    schema_description: str | None = None
    schema_directives: list[Directive] = field(default_factory=list)
    schema_fed: FedDirectives = field(default_factory=dict)
    links: list[Link] = field(default_factory=list)
    # Federation version linked by the subgraph; fed1 subgraphs get 2.4 when upgraded.
    federation_version: Version | None = None
    is_fed2: bool = False

    def field(self, type_name: str, field_name: str) -> Field | None:
        t = self.types.get(type_name)
        return t.fields.get(field_name) if t else None

    def is_root(self, type_name: str) -> bool:
        return type_name in self.roots.values()

    def implementations(self, interface: str) -> list[str]:
        return [t.name for t in self.types.values() if t.kind is TypeKind.OBJECT and interface in t.interfaces]


class _Resolver:
    """Maps the directive names written in a subgraph to federation spec names."""

    def __init__(self, fed_link: Link | None):
        self.fed_link = fed_link

    def federation_name(self, name: str) -> str | None:
        if self.fed_link is None:
            # fed1 has no @link: federation directives go by their plain names.
            return name if name in FED1_DIRECTIVES else None
        spec = self.fed_link.spec_directive_for(name)
        version = self.fed_link.feature.version  # type: ignore[union-attr]
        return spec if spec in FEDERATION_DIRECTIVES and FEDERATION_DIRECTIVES[spec] <= version else None


class _Builder:
    def __init__(self, name: str, url: str, document: DocumentNode):
        self.sg = Subgraph(name=name, url=url)
        self.document = document
        self.errors: list[CompositionError] = []
        self.resolver: _Resolver | None = None

    def fail(self, message: str, code: str = Code.INVALID_GRAPHQL, coordinates: tuple[str, ...] = ()) -> None:
        self.errors.append(error(code, f"[{self.sg.name}] {message}", [self.sg.name], coordinates))

    def build(self) -> Subgraph:
        schema_nodes = [
            d for d in self.document.definitions if isinstance(d, (SchemaDefinitionNode, SchemaExtensionNode))
        ]
        self._read_links(schema_nodes)
        fed_link = next(
            (link for link in self.sg.links if link.feature and link.feature.identity == FEDERATION_IDENTITY), None
        )
        self.resolver = _Resolver(fed_link if self.sg.is_fed2 else None)
        for definition in self.document.definitions:
            if isinstance(definition, DirectiveDefinitionNode):
                self._read_directive_definition(definition)
        for definition in self.document.definitions:
            kind_ext = _KIND_BY_NODE.get(type(definition))
            if kind_ext is not None:
                self._read_type(definition, *kind_ext)
        self._read_schema(schema_nodes)
        self._rename_roots()
        self._drop_federation_root_fields()
        return self.sg

    # -- @link ---------------------------------------------------------------------------------------------

    def _read_links(self, schema_nodes: list) -> None:
        for node in schema_nodes:
            for d in node.directives or ():
                if d.name.value != "link":
                    continue
                try:
                    link = parse_link({a.name.value: a.value for a in d.arguments or ()})
                except LinkError as exc:
                    self.fail(str(exc), Code.INVALID_LINK_DIRECTIVE_USAGE)
                    continue
                self.sg.links.append(link)
                feature = link.feature
                if feature and feature.identity == FEDERATION_IDENTITY:
                    if feature.version not in KNOWN_FEDERATION_VERSIONS:
                        self.fail(
                            f"Invalid version {feature.version} for the federation feature in @link directive on schema",
                            Code.UNKNOWN_FEDERATION_LINK_VERSION,
                        )
                        continue
                    self.sg.is_fed2 = True
                    self.sg.federation_version = feature.version
                    for spec_name in link.imported_directives:
                        since = FEDERATION_DIRECTIVES.get(spec_name)
                        if since is None or since > feature.version:
                            self.fail(
                                f'Cannot import unknown element "@{spec_name}".'
                                + (
                                    f' The federation directive "@{spec_name}" is only available from federation {since}.'
                                    if since
                                    else ""
                                ),
                                Code.INVALID_LINK_DIRECTIVE_USAGE,
                            )

    # -- directives --------------------------------------------------------------------------------------------

    def _is_known_directive(self, name: str) -> bool:
        return name in BUILTIN_DIRECTIVES or name == "link" or name in self.sg.directive_defs

    def _directives(
        self, nodes: tuple[ConstDirectiveNode, ...] | None, coordinate: str, from_extension: bool = False
    ) -> tuple[list[Directive], FedDirectives]:
        plain: list[Directive] = []
        fed: FedDirectives = {}
        assert self.resolver is not None
        for position, node in enumerate(nodes or ()):
            name = node.name.value
            d = Directive(name, {a.name.value: a.value for a in node.arguments or ()}, from_extension, position)
            spec = self.resolver.federation_name(name)
            if spec is not None:
                fed.setdefault(spec, []).append(d)
            elif self._is_known_directive(name):
                plain.append(d)
            else:
                self._unknown_directive(name)
        return plain, fed

    def _unknown_directive(self, name: str) -> None:
        message = f'Unknown directive "@{name}".'
        fed_link = self.resolver.fed_link if self.resolver else None
        if fed_link is None and name in FEDERATION_DIRECTIVES:
            # (Apollo's wording, its typo included, so that messages match.)
            message += (
                f' If you meant the "@{name}" federation 2 directive, note that this schema is a federation 1 schema.'
                " To be a federation 2 schema, it needs to @link to the federation specifcation v2."
            )
        elif fed_link is not None and name in FEDERATION_DIRECTIVES:
            if FEDERATION_DIRECTIVES[name] <= fed_link.feature.version:  # type: ignore[union-attr]
                message += (
                    f' If you meant the "@{name}" federation directive, you should use fully-qualified name'
                    f' "@{fed_link.namespace}__{name}" or add "@{name}" to the `import` argument of the @link to the'
                    " federation specification."
                )
            else:
                linked = fed_link.feature.version  # type: ignore[union-attr]
                message += (
                    f' If you meant the "@{name}" federation directive, note that it requires federation'
                    f" {FEDERATION_DIRECTIVES[name]} or later (this subgraph links federation {linked})."
                )
        self.fail(message)

    def _read_directive_definition(self, node: DirectiveDefinitionNode) -> None:
        name = node.name.value
        assert self.resolver is not None
        # Subgraph libraries often print the definitions of federation and built-in directives: not the user's.
        if name in BUILTIN_DIRECTIVES or name in ("link", "core") or self.resolver.federation_name(name) is not None:
            return
        self.sg.directive_defs[name] = DirectiveDef(
            name=name,
            locations=[loc.value for loc in node.locations],
            repeatable=node.repeatable,
            description=node.description.value if node.description else None,
        )

    def _finish_directive_definitions(self) -> None:
        for definition in self.document.definitions:
            if isinstance(definition, DirectiveDefinitionNode) and definition.name.value in self.sg.directive_defs:
                dd = self.sg.directive_defs[definition.name.value]
                dd.args = {
                    a.name.value: self._input_value(a, f"@{dd.name}({a.name.value}:)")
                    for a in definition.arguments or ()
                }

    # -- types -----------------------------------------------------------------------------------------------

    def _read_type(self, node, kind: TypeKind, is_extension: bool) -> None:
        name = node.name.value
        if name in FEDERATION_TYPE_NAMES or name.startswith("link__"):
            return
        fed_link = self.resolver.fed_link if self.resolver else None
        if fed_link is not None and (
            name.startswith(fed_link.namespace + "__") or name in fed_link.imported_types.values()
        ):
            return
        t = self.sg.types.get(name)
        if t is None:
            t = self.sg.types[name] = TypeDef(kind=kind, name=name)
        elif t.kind is not kind:
            self.fail(f'Type "{name}" is defined as both {t.kind.label} and {kind.label}.', coordinates=(name,))
            return
        if is_extension:
            t.has_extension = True
        else:
            if t.has_definition:
                self.fail(f'There can be only one type named "{name}".', coordinates=(name,))
            t.has_definition = True
            if node.description is not None:
                t.description = node.description.value
        plain, fed = self._directives(node.directives, name, is_extension)
        t.directives.extend(plain)
        for k, v in fed.items():
            t.fed.setdefault(k, []).extend(v)
        if kind in (TypeKind.OBJECT, TypeKind.INTERFACE):
            t.interfaces.extend(i.name.value for i in node.interfaces or () if i.name.value not in t.interfaces)
            for f in node.fields or ():
                self._add_field(t, f, is_extension)
        elif kind is TypeKind.UNION:
            t.members.extend(m.name.value for m in node.types or () if m.name.value not in t.members)
        elif kind is TypeKind.ENUM:
            for v in node.values or ():
                vplain, vfed = self._directives(v.directives, f"{name}.{v.name.value}")
                if v.name.value in t.values:
                    self.fail(f'Enum value "{name}.{v.name.value}" can only be defined once.')
                t.values[v.name.value] = EnumValue(
                    v.name.value, v.description.value if v.description else None, vplain, vfed
                )
        elif kind is TypeKind.INPUT_OBJECT:
            for f in node.fields or ():
                if f.name.value in t.input_fields:
                    self.fail(f'Field "{name}.{f.name.value}" can only be defined once.')
                t.input_fields[f.name.value] = self._input_value(f, f"{name}.{f.name.value}")

    def _add_field(self, t: TypeDef, node: FieldDefinitionNode, is_extension: bool) -> None:
        name = node.name.value
        coordinate = f"{t.name}.{name}"
        if name in t.fields:
            self.fail(f'Field "{coordinate}" can only be defined once.', coordinates=(coordinate,))
            return
        plain, fed = self._directives(node.directives, coordinate, is_extension)
        t.fields[name] = Field(
            name=name,
            type=TypeRef.from_ast(node.type),
            args={a.name.value: self._input_value(a, f"{coordinate}({a.name.value}:)") for a in node.arguments or ()},
            description=node.description.value if node.description else None,
            directives=plain,
            fed=fed,
            from_extension=is_extension,
        )

    def _input_value(self, node: InputValueDefinitionNode, coordinate: str) -> InputValue:
        plain, fed = self._directives(node.directives, coordinate)
        return InputValue(
            name=node.name.value,
            type=TypeRef.from_ast(node.type),
            default=node.default_value,
            description=node.description.value if node.description else None,
            directives=plain,
            fed=fed,
        )

    # -- schema definition and root types ------------------------------------------------------------------

    def _read_schema(self, schema_nodes: list) -> None:
        self._finish_directive_definitions()
        for node in schema_nodes:
            if isinstance(node, SchemaDefinitionNode) and node.description is not None:
                self.sg.schema_description = node.description.value
            for op in node.operation_types or ():
                kind = op.operation.value
                if kind in self.sg.roots:
                    self.fail(f"Must provide only one {kind} type in schema.")
                self.sg.roots[kind] = op.type.name.value
            plain, fed = self._directives(tuple(d for d in node.directives or () if d.name.value != "link"), "schema")
            self.sg.schema_directives.extend(plain)
            for k, v in fed.items():
                self.sg.schema_fed.setdefault(k, []).extend(v)
        for kind in ROOT_KINDS:
            if kind not in self.sg.roots and DEFAULT_ROOT_NAMES[kind] in self.sg.types:
                self.sg.roots[kind] = DEFAULT_ROOT_NAMES[kind]

    def _rename_roots(self) -> None:
        for kind, current in list(self.sg.roots.items()):
            default = DEFAULT_ROOT_NAMES[kind]
            if current == default:
                continue
            if default in self.sg.types:
                code = {"query": Code.ROOT_QUERY_USED, "mutation": Code.ROOT_MUTATION_USED}.get(
                    kind, Code.ROOT_SUBSCRIPTION_USED
                )
                self.fail(
                    f'The schema has a type named "{default}" but it is not set as the {kind} root type ("{current}" is'
                    " instead): this is not supported by federation. If a root type does not use its default name,"
                    " there should be no other type with that default name.",
                    code,
                    (default,),
                )
                continue
            rename_type(self.sg, current, default)
            self.sg.roots[kind] = default

    def _drop_federation_root_fields(self) -> None:
        # Every subgraph answers queries (`_service` at least), so each has a Query type, possibly with no field
        # of its own; the supergraph records that with a @join__type on Query for every subgraph.
        query = self.sg.types.get("Query")
        if query is None:
            query = self.sg.types["Query"] = TypeDef(kind=TypeKind.OBJECT, name="Query", has_definition=True)
            self.sg.roots["query"] = "Query"
        for name in FEDERATION_ROOT_FIELDS:
            query.fields.pop(name, None)


def rename_type(sg: Subgraph, old: str, new: str) -> None:
    t = sg.types.pop(old)
    t.name = new
    sg.types[new] = t
    for other in sg.types.values():
        for f in other.fields.values():
            f.type = f.type.renamed(old, new)
            for a in f.args.values():
                a.type = a.type.renamed(old, new)
        other.members = [new if m == old else m for m in other.members]
        other.interfaces = [new if i == old else i for i in other.interfaces]
    for kind, name in sg.roots.items():
        if name == old:
            sg.roots[kind] = new


def parse_subgraph(name: str, url: str, sdl: str) -> tuple[Subgraph | None, list[CompositionError]]:
    """Read one subgraph. Returns the subgraph, or None and the errors that make it unreadable."""
    try:
        document = parse(sdl)
    except GraphQLSyntaxError as exc:
        return None, [error(Code.INVALID_GRAPHQL, f"[{name}] {exc.message}", [name])]
    builder = _Builder(name, url, document)
    sg = builder.build()
    if builder.errors:
        return None, builder.errors
    graphql_errors = check_graphql_validity(sg)
    if graphql_errors:
        return None, graphql_errors
    return sg, []
