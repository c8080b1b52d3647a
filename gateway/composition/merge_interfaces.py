"""Merging interfaces: keys on interfaces, @interfaceObject rules, and the fields an @interfaceObject adds to the
implementations of its interface."""

from __future__ import annotations

from .applied import merge_applications
from .errors import Code
from .merge_base import ACCESS_CONTROL, _resolvable, _types
from .merge_fields import FieldMerging
from .metadata import fields_arg
from .model import Directive, Field, InputValue, TypeDef, TypeKind, TypeRef
from .override import FieldMergeContext


class InterfaceMerging(FieldMerging):
    def _merge_interface(self, sources: dict[int, TypeDef], dest: TypeDef) -> None:
        self._validate_interface_keys(sources, dest)
        self._validate_interface_objects(sources, dest)
        shallow = self._fields_shallow(sources, dest)
        for name in shallow:
            dest.fields[name] = Field(name=name, type=TypeRef.named("String"))
        for name, field_sources in shallow.items():
            ctx = self._validate_override(f"{dest.name}.{name}", field_sources)
            self._merge_field(field_sources, dest.fields[name], dest, ctx)

    def _validate_interface_keys(self, sources: dict[int, TypeDef], dest: TypeDef) -> None:
        implementations = self.possible_runtime_types(dest.name)
        for idx, source in sources.items():
            if source.kind is not TypeKind.INTERFACE:
                continue
            resolvable = next((k for k in source.fed.get("key", []) if _resolvable(k)), None)
            if resolvable is None:
                continue
            in_subgraph = self.sgs[idx].implementations(dest.name)
            missing = [i for i in implementations if i not in in_subgraph]
            if missing:
                name = self.names[idx]
                self.fail(
                    Code.INTERFACE_KEY_MISSING_IMPLEMENTATION_TYPE,
                    f'[{name}] Interface type "{dest.name}" has a resolvable key (@key(fields: "{fields_arg(resolvable)}"))'
                    f' in subgraph "{name}" but that subgraph is missing some of the supergraph implementation types of'
                    f' "{dest.name}". Subgraph "{name}" should define {_types(missing)} (and have'
                    f' {"them" if len(missing) > 1 else "it"} implement "{dest.name}").',
                    [name],
                    [dest.name, *missing],
                )

    def _validate_interface_objects(self, sources: dict[int, TypeDef], dest: TypeDef) -> None:
        implementations = self.possible_runtime_types(dest.name)
        for idx, source in sources.items():
            if source.name not in self.metas[idx].interface_objects:
                continue
            defined = [i for i in implementations if i in self.sgs[idx].types]
            if defined:
                name = self.names[idx]
                self.fail(
                    Code.INTERFACE_OBJECT_USAGE_ERROR,
                    f'[{name}] Interface type "{dest.name}" is defined as an @interfaceObject in subgraph "{name}" so'
                    f' that subgraph should not define any of the implementation types of "{dest.name}", but it'
                    f" defines {_types(defined)}",
                    [name],
                    [dest.name, *defined],
                )

    def _add_interface_object_fields(self) -> None:
        for t in list(self.sup.types.values()):
            if t.kind is not TypeKind.OBJECT:
                continue
            for itf_name in t.interfaces:
                itf = self.sup.types.get(itf_name)
                if itf is None:
                    continue
                for itf_field in itf.fields.values():
                    if itf_field.name in t.fields:
                        continue
                    provided = any(
                        itf_name in self.metas[i].interface_objects
                        and itf_field.name in sg.types[itf_name].fields
                        and not self.metas[i].is_external(itf_name, itf_field.name)
                        for i, sg in enumerate(self.sgs)
                        if itf_name in sg.types
                    )
                    if not provided:
                        continue
                    copy = Field(
                        name=itf_field.name,
                        type=itf_field.type,
                        args={
                            n: InputValue(a.name, a.type, a.default, a.description, [d for d in a.directives])
                            for n, a in itf_field.args.items()
                        },
                        description=itf_field.description,
                    )
                    # No subgraph defines this field on the implementation: `@join__field` without a graph says so.
                    copy.directives = []
                    coordinate = f"{t.name}.{itf_field.name}"
                    for name in ACCESS_CONTROL:
                        extra = self.access_control_sources().get((coordinate, name), [])
                        per_source = [[Directive(name, d.args) for d in e.fed[name]] for e in extra]  # type: ignore[attr-defined]
                        copy.directives += merge_applications(name, per_source)
                    copy.directives += [
                        d
                        for d in itf_field.directives
                        if not d.name.startswith("join__") and d.name not in ACCESS_CONTROL
                    ]
                    copy.directives.append(Directive("join__field", {}))
                    t.fields[itf_field.name] = copy
                    self._validate_field_sharing({i: None for i in range(len(self.sgs))}, t, copy, FieldMergeContext())
