"""Plain data model for schema elements, shared by subgraphs and the supergraph being built.

graphql-core's GraphQLSchema cannot record what composition needs (which definition came from a type
extension, federation directives resolved through @link renames, several applications per element),
so composition works on these small dataclasses and keeps graphql-core for parsing and value nodes.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from graphql.language import ListTypeNode, NamedTypeNode, NonNullTypeNode, TypeNode, ValueNode


class TypeKind(enum.Enum):
    SCALAR = "ScalarType"
    OBJECT = "ObjectType"
    INTERFACE = "InterfaceType"
    UNION = "UnionType"
    ENUM = "EnumType"
    INPUT_OBJECT = "InputObjectType"

    @property
    def label(self) -> str:
        # Matches the wording Apollo uses in its messages ("Object Type", "Input Object Type", ...).
        return self.value.replace("Type", " Type")


BUILTIN_SCALARS = frozenset({"String", "Int", "Float", "Boolean", "ID"})
ROOT_KINDS = ("query", "mutation", "subscription")
DEFAULT_ROOT_NAMES = {"query": "Query", "mutation": "Mutation", "subscription": "Subscription"}


@dataclass(frozen=True)
class TypeRef:
    """A type reference such as ``[User!]!``: a named type wrapped in lists and non-nulls."""

    name: str | None = None
    of_type: TypeRef | None = None
    non_null: bool = False
    is_list: bool = False

    @staticmethod
    def named(name: str) -> TypeRef:
        return TypeRef(name=name)

    @staticmethod
    def from_ast(node: TypeNode) -> TypeRef:
        if isinstance(node, NonNullTypeNode):
            return TypeRef(of_type=TypeRef.from_ast(node.type), non_null=True)
        if isinstance(node, ListTypeNode):
            return TypeRef(of_type=TypeRef.from_ast(node.type), is_list=True)
        assert isinstance(node, NamedTypeNode)
        return TypeRef(name=node.name.value)

    @property
    def base(self) -> str:
        ref: TypeRef = self
        while ref.of_type is not None:
            ref = ref.of_type
        assert ref.name is not None
        return ref.name

    def renamed(self, old: str, new: str) -> TypeRef:
        if self.of_type is not None:
            return TypeRef(of_type=self.of_type.renamed(old, new), non_null=self.non_null, is_list=self.is_list)
        return TypeRef(name=new) if self.name == old else self

    def __str__(self) -> str:
        if self.non_null:
            return f"{self.of_type}!"
        if self.is_list:
            return f"[{self.of_type}]"
        return str(self.name)


@dataclass
class Directive:
    """One directive application. ``name`` is the name used in the schema it sits in."""

    name: str
    args: dict[str, ValueNode] = field(default_factory=dict)
    from_extension: bool = False
    # Index among the directives written on the same element, so merged applications keep the subgraph's order.
    position: int = field(default=0, compare=False)


# Federation directives on an element, keyed by their canonical (spec) name: "key", "external", ...
FedDirectives = dict[str, list[Directive]]


@dataclass
class InputValue:
    """A field argument, a directive argument or an input object field."""

    name: str
    type: TypeRef
    default: ValueNode | None = None
    description: str | None = None
    directives: list[Directive] = field(default_factory=list)
    fed: FedDirectives = field(default_factory=dict)


@dataclass
class Field:
    name: str
    type: TypeRef
    args: dict[str, InputValue] = field(default_factory=dict)
    description: str | None = None
    directives: list[Directive] = field(default_factory=list)
    fed: FedDirectives = field(default_factory=dict)
    from_extension: bool = False


@dataclass
class EnumValue:
    name: str
    description: str | None = None
    directives: list[Directive] = field(default_factory=list)
    fed: FedDirectives = field(default_factory=dict)


@dataclass
class TypeDef:
    kind: TypeKind
    name: str
    description: str | None = None
    directives: list[Directive] = field(default_factory=list)
    fed: FedDirectives = field(default_factory=dict)
    fields: dict[str, Field] = field(default_factory=dict)
    input_fields: dict[str, InputValue] = field(default_factory=dict)
    interfaces: list[str] = field(default_factory=list)
    members: list[str] = field(default_factory=list)
    values: dict[str, EnumValue] = field(default_factory=dict)
    # Whether the type has a plain definition and/or `extend type` blocks in its schema.
    has_definition: bool = False
    has_extension: bool = False

    @property
    def is_composite(self) -> bool:
        return self.kind in (TypeKind.OBJECT, TypeKind.INTERFACE, TypeKind.UNION)


@dataclass
class DirectiveDef:
    name: str
    args: dict[str, InputValue] = field(default_factory=dict)
    locations: list[str] = field(default_factory=list)
    repeatable: bool = False
    description: str | None = None


EXECUTABLE_LOCATIONS = frozenset(
    {
        "QUERY",
        "MUTATION",
        "SUBSCRIPTION",
        "FIELD",
        "FRAGMENT_DEFINITION",
        "FRAGMENT_SPREAD",
        "INLINE_FRAGMENT",
        "VARIABLE_DEFINITION",
    }
)
