"""Merger state and the helpers every merging step uses: sources per subgraph, descriptions, type references
(subtyping), default values, and which directive applications the supergraph keeps."""

from __future__ import annotations

from dataclasses import dataclass, field

from graphql.language import StringValueNode

from .compose_directives import collect_composed_directives
from .directive_names import supergraph_directive_names
from .errors import Code, CompositionError, CompositionHint, HintCode, error, hint
from .merged import Supergraph, graph_enum_values
from .metadata import FederationMeta
from .model import Directive, InputValue, TypeDef, TypeKind, TypeRef
from .reporting import join_strings, mismatch
from .sdl import EnumName, print_value, value_key
from .specs import FEATURE_BY_DIRECTIVE, FED1_UPGRADE_VERSION, join_version_for
from .subgraph import Subgraph

BUILTIN_MERGED = ("deprecated", "specifiedBy")
ACCESS_CONTROL = ("authenticated", "requiresScopes", "policy")


@dataclass
class EnumUsage:
    position: str  # "Input", "Output" or "Both"
    examples: dict[str, str] = field(default_factory=dict)


class MergerBase:
    """State shared by the merging steps. "Sources" below are dicts from subgraph index (subgraphs sorted by name)
    to the element in that subgraph, or None when the subgraph has the parent element but not this one."""

    def __init__(self, subgraphs: list[Subgraph], metas: list[FederationMeta]):
        order = sorted(range(len(subgraphs)), key=lambda i: subgraphs[i].name)
        self.sgs = [subgraphs[i] for i in order]
        self.metas = [metas[i] for i in order]
        self.names = [s.name for s in self.sgs]
        self.errors: list[CompositionError] = []
        self.hints: list[CompositionHint] = []
        fed_versions = [s.federation_version or FED1_UPGRADE_VERSION for s in self.sgs]
        federation_version = max(fed_versions) if fed_versions else FED1_UPGRADE_VERSION
        self.sup = Supergraph(
            subgraphs=self.sgs,
            graph_enum=graph_enum_values(self.names),
            join_version=join_version_for(federation_version),
            federation_version=federation_version,
        )
        self.enum_usages: dict[str, EnumUsage] = {}
        # Merged federation directives some subgraph applies: those reach the supergraph with their spec.
        self.merged_directives = self._used_merged_directives()
        self.sup.composed, errors = collect_composed_directives(self.sgs)
        self.errors.extend(errors)
        self.sup.directive_names, errors = supergraph_directive_names(self.sgs)
        self.errors.extend(errors)
        self.pending: list[tuple[dict[int, object], object, str | None]] = []
        self.uses_cache_tag = False
        self._access_sources: dict[tuple[str, str], list[object]] | None = None
        self._access_order: list[str] | None = None

    def graph(self, idx: int) -> EnumName:
        return EnumName(self.sup.graph_enum[self.names[idx]])

    def fail(self, code: str, message: str, subgraphs=(), coordinates=()) -> None:
        self.errors.append(error(code, message, subgraphs, coordinates))

    def note(self, code: str, message: str, subgraphs=(), coordinates=()) -> None:
        self.hints.append(hint(code, message, subgraphs, coordinates))

    def kind_in(self, idx: int, t: TypeDef) -> TypeKind:
        return TypeKind.INTERFACE if t.name in self.metas[idx].interface_objects else t.kind

    def _used_merged_directives(self) -> set[str]:
        used: set[str] = set()

        def scan(fed: dict[str, list[Directive]]) -> None:
            used.update(name for name, apps in fed.items() if apps and name in FEATURE_BY_DIRECTIVE)

        for sg in self.sgs:
            scan(sg.schema_fed)
            for t in sg.types.values():
                scan(t.fed)
                for f in t.fields.values():
                    scan(f.fed)
                    for a in f.args.values():
                        scan(a.fed)
                for a in t.input_fields.values():
                    scan(a.fed)
                for v in t.values.values():
                    scan(v.fed)
            for d in sg.directive_defs.values():
                for a in d.args.values():
                    scan(a.fed)
        return used

    def mergeable(self, idx: int, element: object) -> list[Directive]:
        """Applications on a subgraph element that the supergraph keeps (supergraph names)."""
        composed = self.sup.composed.per_subgraph.get(self.names[idx], set())
        out = [d for d in getattr(element, "directives", []) if d.name in BUILTIN_MERGED or d.name in composed]
        for name, apps in getattr(element, "fed", {}).items():
            if name not in self.merged_directives:
                continue
            for d in apps:
                args = dict(d.args)
                if name == "context":
                    # Context names are per subgraph: the supergraph qualifies them with the subgraph name.
                    args["name"] = StringValueNode(value=f"{self.names[idx]}__{_str(d, 'name')}")
                out.append(Directive(name, args, d.from_extension, d.position))
        # In the order written (Apollo merges names in the order it first meets them), definitions before extensions.
        return sorted(out, key=lambda d: (d.from_extension, d.position))

    def sources_of(self, dest: TypeDef) -> dict[int, TypeDef]:
        out: dict[int, TypeDef] = {}
        for idx, sg in enumerate(self.sgs):
            t = sg.types.get(dest.name)
            if t is not None and self.kind_in(idx, t) is dest.kind:
                out[idx] = t
        return out

    def possible_runtime_types(self, name: str) -> list[str]:
        t = self.sup.types.get(name)
        if t is None:
            return []
        if t.kind is TypeKind.UNION:
            return list(t.members)
        if t.kind is TypeKind.OBJECT:
            return [name]
        return [o.name for o in self.sup.types.values() if o.kind is TypeKind.OBJECT and name in o.interfaces]

    def _merge_description(self, sources: dict, dest: object) -> None:
        descriptions: list[str] = []
        counts: list[int] = []
        for source in sources.values():
            desc = getattr(source, "description", None) if source is not None else None
            if desc is None:
                continue
            if desc in descriptions:
                counts[descriptions.index(desc)] += 1
            else:
                descriptions.append(desc)
                # Empty descriptions only win when there is nothing else.
                counts.append(-(10**9) if desc == "" else 1)
        if not descriptions:
            return
        non_empty = [d for d in descriptions if d != ""]
        if len(descriptions) == 1:
            chosen = descriptions[0]
        elif len(non_empty) == 1:
            chosen = non_empty[0]
        else:
            chosen = descriptions[max(range(len(counts)), key=lambda i: (counts[i], -i))]
            coordinate = getattr(dest, "name", "schema")
            self.note(
                HintCode.INCONSISTENT_DESCRIPTION,
                f'Element "{coordinate}" has inconsistent descriptions across subgraphs.',
                [self.names[i] for i, s in sources.items() if s is not None],
                [coordinate],
            )
        dest.description = chosen  # type: ignore[attr-defined]

    def is_strict_subtype(self, t: TypeRef, maybe_sub: TypeRef) -> bool:
        if maybe_sub.is_list:
            return t.is_list and self.is_subtype(t.of_type, maybe_sub.of_type)  # type: ignore[arg-type]
        if maybe_sub.non_null:
            if t.non_null:
                return self.is_subtype(t.of_type, maybe_sub.of_type)  # type: ignore[arg-type]
            return self.is_subtype(t, maybe_sub.of_type)  # type: ignore[arg-type]
        if t.is_list or t.non_null or t.name is None or maybe_sub.name is None:
            return False
        sup = self.sup.types.get(t.name)
        sub = self.sup.types.get(maybe_sub.name)
        if sup is None or sub is None:
            return False
        if sup.kind is TypeKind.UNION:
            return sub.kind is TypeKind.OBJECT and sub.name in sup.members
        if sup.kind is TypeKind.INTERFACE:
            return sub.kind in (TypeKind.OBJECT, TypeKind.INTERFACE) and sup.name in sub.interfaces
        return False

    def is_subtype(self, t: TypeRef, maybe_sub: TypeRef) -> bool:
        return t == maybe_sub or self.is_strict_subtype(t, maybe_sub)

    def _merge_type_reference(self, sources: dict, dest, coordinate: str, is_input: bool) -> bool:
        dest_type: TypeRef | None = None
        has_subtypes = incompatible = False
        for source in sources.values():
            if source is None:
                continue
            st = source.type
            if dest_type is None or st == dest_type:
                dest_type = st
            elif self.is_strict_subtype(dest_type, st):
                has_subtypes = True
                if is_input:
                    dest_type = st
            elif self.is_strict_subtype(st, dest_type):
                has_subtypes = True
                if not is_input:
                    dest_type = st
            else:
                incompatible = True
        assert dest_type is not None
        dest.type = dest_type
        base = self.sup.types.get(dest_type.base)
        if base is not None and base.kind is TypeKind.ENUM:
            position = "Input" if is_input else "Output"
            usage = self.enum_usages.get(base.name)
            if usage is None:
                usage = self.enum_usages[base.name] = EnumUsage(position)
            elif usage.position != position:
                usage.position = "Both"
            usage.examples.setdefault(position, coordinate)
        if incompatible:
            values = [(self.names[i], f'type "{s.type}"') for i, s in sources.items() if s is not None]
            element = "argument" if is_input and "(" in coordinate else "field"
            code = Code.ARGUMENT_TYPE_MISMATCH if element == "argument" else Code.FIELD_TYPE_MISMATCH
            self.fail(
                code,
                f'Type of {element} "{coordinate}" is incompatible across subgraphs: it has ' + mismatch(values, None),
                [s for s, _ in values],
                [coordinate],
            )
            return False
        if has_subtypes:
            element = "argument" if is_input and "(" in coordinate else "field"
            self.note(
                HintCode.INCONSISTENT_BUT_COMPATIBLE_ARGUMENT_TYPE
                if element == "argument"
                else HintCode.INCONSISTENT_BUT_COMPATIBLE_FIELD_TYPE,
                f'Type of {element} "{coordinate}" is inconsistent but compatible across subgraphs: will use type'
                f' "{dest_type}" in supergraph.',
                [self.names[i] for i, s in sources.items() if s is not None],
                [coordinate],
            )
            return False
        return True

    def _merge_default(self, sources: dict, dest: InputValue, coordinate: str, kind: str) -> None:
        # Intersection: a default only if every subgraph has the same one.
        dest_default = None
        seen = False
        inconsistent = incompatible = False
        for source in sources.values():
            if source is None:
                continue
            if dest_default is None:
                dest_default = source.default
                if seen and source.default is not None:
                    inconsistent = True
            elif value_key(dest_default) != value_key(source.default):
                inconsistent = True
                if source.default is not None:
                    incompatible = True
            seen = True
        if not inconsistent or incompatible:
            dest.default = dest_default
        if incompatible:
            values = [
                (
                    self.names[i],
                    f"default value {print_value(s.default)}" if s.default is not None else "no default value",
                )
                for i, s in sources.items()
                if s is not None
            ]
            code = Code.ARGUMENT_DEFAULT_MISMATCH if kind == "Argument" else Code.INPUT_FIELD_DEFAULT_MISMATCH
            self.fail(
                code,
                f'{kind} "{coordinate}" has incompatible default values across subgraphs: it has '
                + mismatch(values, None),
                [s for s, _ in values],
                [coordinate],
            )
        elif inconsistent:
            self.note(
                HintCode.INCONSISTENT_DEFAULT_VALUE_PRESENCE,
                f'{kind} "{coordinate}" has a default value in only some subgraphs.',
                [self.names[i] for i, s in sources.items() if s is not None],
                [coordinate],
            )


def _str(d: Directive, arg: str) -> str | None:
    value = d.args.get(arg)
    return value.value if isinstance(value, StringValueNode) else None


def _same_values(a: dict, b: dict) -> bool:
    return {k: value_key(v) for k, v in a.items()} == {k: value_key(v) for k, v in b.items()}


def _required(v: InputValue) -> bool:
    return v.type.non_null and v.default is None


def _resolvable(key: Directive) -> bool:
    value = key.args.get("resolvable")
    return not (value is not None and getattr(value, "value", True) is False)


def _types(names: list[str]) -> str:
    quoted = [f'"{n}"' for n in names]
    return ("type " if len(quoted) == 1 else "types ") + join_strings(quoted)
