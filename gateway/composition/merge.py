"""Merging validated subgraphs into one supergraph model annotated with join-spec directives.

Output types (objects, interfaces, unions, output enums) merge by union; input types, arguments and input enums by
intersection; enums used both ways must agree. Every element records which subgraphs define it (@join__type,
@join__field, @join__implements, @join__unionMember, @join__enumValue) so a planner can route fields.

The steps live in mixins, one module per concern (merge_base, merge_directives, merge_fields, merge_interfaces,
merge_unions_enums_inputs); the order of the steps below follows Apollo's composer, which matters because later
steps rely on earlier ones (subtyping needs implements and union members merged; enum merging needs every usage).
"""

from __future__ import annotations

from .errors import Code
from .merge_unions_enums_inputs import UnionEnumInputMerging
from .merged import Supergraph
from .metadata import fields_arg, is_type_extension
from .model import DEFAULT_ROOT_NAMES, TypeDef, TypeKind
from .reporting import mismatch, subgraph_names
from .sdl import make_directive, make_value

__all__ = ["Merger", "Supergraph"]


class Merger(UnionEnumInputMerging):
    def merge(self) -> Supergraph | None:
        if self.errors:
            return None
        self._add_types_shallow()
        if self.errors:
            return None
        by_kind: dict[TypeKind, list[TypeDef]] = {}
        for t in self.sup.types.values():
            by_kind.setdefault(t.kind, []).append(t)
        for t in by_kind.get(TypeKind.OBJECT, []) + by_kind.get(TypeKind.INTERFACE, []):
            self._merge_implements(t)
        for t in by_kind.get(TypeKind.UNION, []):
            self._merge_type(t)
        self._merge_schema_definition()
        for kind in (TypeKind.SCALAR, TypeKind.INPUT_OBJECT, TypeKind.INTERFACE, TypeKind.OBJECT):
            for t in by_kind.get(kind, []):
                self._merge_type(t)
        self._merge_directive_definitions()
        for t in by_kind.get(TypeKind.ENUM, []):
            self._merge_type(t)
        if "query" not in self.sup.roots:
            self.fail(Code.NO_QUERIES, "No queries found in any subgraph: a supergraph must have a query root type.")
        self._merge_all_applied()
        self._add_interface_object_fields()
        self._register_features()
        return self.sup

    def _add_types_shallow(self) -> None:
        mismatched: list[str] = []
        interface_objects: set[str] = set()
        for idx, sg in enumerate(self.sgs):
            for t in sg.types.values():
                kind = self.kind_in(idx, t)
                if t.name in self.metas[idx].interface_objects:
                    interface_objects.add(t.name)
                existing = self.sup.types.get(t.name)
                if existing is None:
                    self.sup.types[t.name] = TypeDef(kind=kind, name=t.name)
                elif existing.kind is not kind and t.name not in mismatched:
                    mismatched.append(t.name)
        for name in mismatched:
            values = []
            for idx, sg in enumerate(self.sgs):
                t = sg.types.get(name)
                if t is not None:
                    label = (
                        "Interface Object Type (Object Type with @interfaceObject)"
                        if name in self.metas[idx].interface_objects
                        else t.kind.label
                    )
                    values.append((sg.name, label))
            self.fail(
                Code.TYPE_KIND_MISMATCH,
                f'Type "{name}" has mismatched kind: it is defined as ' + mismatch(values, values[0][1]),
                [s for s, _ in values],
                [name],
            )
        for name in sorted(interface_objects - set(mismatched)):
            if not any(sg.types.get(name) and sg.types[name].kind is TypeKind.INTERFACE for sg in self.sgs):
                defining = [sg.name for sg in self.sgs if name in sg.types]
                self.fail(
                    Code.INTERFACE_OBJECT_USAGE_ERROR,
                    f'Type "{name}" is declared with @interfaceObject in all the subgraphs in which it is defined (it is'
                    f" defined in {subgraph_names(defining)} but should be defined as an interface in at least one"
                    " subgraph)",
                    defining,
                    [name],
                )

    def _merge_implements(self, dest: TypeDef) -> None:
        for idx, source in self.sources_of(dest).items():
            for itf in source.interfaces:
                if itf not in dest.interfaces:
                    dest.interfaces.append(itf)
                dest.directives.append(make_directive("join__implements", graph=self.graph(idx), interface=itf))

    def _merge_type(self, dest: TypeDef) -> None:
        sources = self.sources_of(dest)
        self._check_extension_with_no_base(sources, dest)
        self._merge_description(sources, dest)
        self._add_join_type(sources, dest)
        self._record_applied(sources, dest, dest.name if dest.kind is TypeKind.INTERFACE else None)
        self._add_join_directives(sources, dest)
        if dest.kind is TypeKind.OBJECT:
            self._merge_object(sources, dest)
        elif dest.kind is TypeKind.INTERFACE:
            self._merge_interface(sources, dest)
        elif dest.kind is TypeKind.UNION:
            self._merge_union(sources, dest)
        elif dest.kind is TypeKind.ENUM:
            self._merge_enum(sources, dest)
        elif dest.kind is TypeKind.INPUT_OBJECT:
            self._merge_input(sources, dest)

    def _check_extension_with_no_base(self, sources: dict[int, TypeDef], dest: TypeDef) -> None:
        if dest.kind is TypeKind.OBJECT and dest.name in DEFAULT_ROOT_NAMES.values():
            return
        extensions = [self.names[i] for i, s in sources.items() if s.has_extension]
        if extensions and not any(s.has_definition for s in sources.values()):
            for name in extensions:
                self.fail(
                    Code.EXTENSION_WITH_NO_BASE,
                    f'[{name}] Type "{dest.name}" is an extension type, but there is no type definition for'
                    f' "{dest.name}" in any subgraph.',
                    [name],
                    [dest.name],
                )

    def _add_join_type(self, sources: dict[int, TypeDef], dest: TypeDef) -> None:
        for idx, source in sources.items():
            is_itf_object = True if source.name in self.metas[idx].interface_objects else None
            keys = source.fed.get("key", [])
            if not keys:
                dest.directives.append(
                    make_directive("join__type", graph=self.graph(idx), isInterfaceObject=is_itf_object)
                )
                continue
            for key in keys:
                extension = True if key.from_extension or is_type_extension(source) else None
                resolvable = key.args.get("resolvable")
                d = make_directive(
                    "join__type",
                    graph=self.graph(idx),
                    key=fields_arg(key) or "",
                    extension=extension,
                )
                if resolvable is not None:
                    d.args["resolvable"] = resolvable
                if is_itf_object:
                    d.args["isInterfaceObject"] = make_value(True)
                dest.directives.append(d)
