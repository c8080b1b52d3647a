"""Merging unions (by union of members), enums (union as output, intersection as input, equal when both) and input
objects (by intersection)."""

from __future__ import annotations

from .errors import Code, HintCode
from .merge_base import EnumUsage, _required
from .merge_interfaces import InterfaceMerging
from .model import EnumValue, InputValue, TypeDef, TypeRef
from .override import FieldMergeContext
from .reporting import subgraph_names
from .sdl import make_directive


class UnionEnumInputMerging(InterfaceMerging):
    def _merge_union(self, sources: dict[int, TypeDef], dest: TypeDef) -> None:
        for source in sources.values():
            for member in source.members:
                if member not in dest.members:
                    dest.members.append(member)
        for member in dest.members:
            for idx, source in sources.items():
                if member in source.members:
                    dest.directives.append(make_directive("join__unionMember", graph=self.graph(idx), member=member))

    def _merge_enum(self, sources: dict[int, TypeDef], dest: TypeDef) -> None:
        usage = self.enum_usages.get(dest.name)
        if usage is None:
            usage = EnumUsage("Output")
            self.note(
                HintCode.UNUSED_ENUM_TYPE,
                f'Enum type "{dest.name}" is defined but unused. It will be included in the supergraph with all the'
                ' values appearing in any subgraph ("as if" it was only used as an output type).',
                [self.names[i] for i in sources],
                [dest.name],
            )
        for source in sources.values():
            for v in source.values:
                if v not in dest.values:
                    dest.values[v] = EnumValue(v)
        for name in list(dest.values):
            value = dest.values[name]
            value_sources = {i: s.values.get(name) for i, s in sources.items()}
            self._merge_description(value_sources, value)
            self._record_applied(value_sources, value)
            for idx, v in value_sources.items():
                if v is not None:
                    value.directives.append(make_directive("join__enumValue", graph=self.graph(idx)))
            inaccessible = any(d.name == "inaccessible" for d in value.directives)
            missing = [i for i, v in value_sources.items() if v is None]
            having = [self.names[i] for i, v in value_sources.items() if v is not None]
            lacking = [self.names[i] for i in missing]
            if missing and usage.position == "Output" and not inaccessible:
                self.note(
                    HintCode.INCONSISTENT_ENUM_VALUE_FOR_OUTPUT_ENUM,
                    f'Value "{name}" of enum type "{dest.name}" has been added to the supergraph but is only defined in a'
                    f' subset of the subgraphs defining "{dest.name}": "{name}" is defined in {subgraph_names(having)} but'
                    f" not in {subgraph_names(lacking)}.",
                    having + lacking,
                    [f"{dest.name}.{name}"],
                )
            if inaccessible or usage.position == "Output" or not missing:
                continue
            if usage.position == "Both":
                self.fail(
                    Code.ENUM_VALUE_MISMATCH,
                    f'Enum type "{dest.name}" is used as both input type (for example, as type of'
                    f' "{usage.examples.get("Input")}") and output type (for example, as type of'
                    f' "{usage.examples.get("Output")}"), but value "{name}" is not defined in all the subgraphs defining'
                    f' "{dest.name}": "{name}" is defined in {subgraph_names(having)} but not in {subgraph_names(lacking)}',
                    having + lacking,
                    [f"{dest.name}.{name}"],
                )
            else:
                self.note(
                    HintCode.INCONSISTENT_ENUM_VALUE_FOR_INPUT_ENUM,
                    f'Value "{name}" of enum type "{dest.name}" will not be part of the supergraph as it is not defined'
                    f' in all the subgraphs defining "{dest.name}": "{name}" is defined in {subgraph_names(having)} but'
                    f" not in {subgraph_names(lacking)}.",
                    having + lacking,
                    [f"{dest.name}.{name}"],
                )
                del dest.values[name]
        if not dest.values:
            self.fail(
                Code.EMPTY_MERGED_ENUM_TYPE,
                f'None of the values of enum type "{dest.name}" are defined consistently in all the subgraphs defining'
                " that type. As only values common to all subgraphs are merged, this would result in an empty type.",
                [self.names[i] for i in sources],
                [dest.name],
            )

    def _merge_input(self, sources: dict[int, TypeDef], dest: TypeDef) -> None:
        names: list[str] = []
        for source in sources.values():
            names.extend(n for n in source.input_fields if n not in names)
        for name in names:
            coordinate = f"{dest.name}.{name}"
            field_sources = {i: s.input_fields.get(name) for i, s in sources.items()}
            dest_field = InputValue(name=name, type=TypeRef.named("String"))
            dest.input_fields[name] = dest_field
            self._merge_description(field_sources, dest_field)
            self._record_applied(field_sources, dest_field)
            all_equal = self._merge_type_reference(field_sources, dest_field, coordinate, is_input=True)
            self._add_join_field(field_sources, dest_field, dest.name, all_equal, FieldMergeContext())
            self._merge_default(field_sources, dest_field, coordinate, "Input field")
            inaccessible = any(d.name == "inaccessible" for d in dest_field.directives)
            missing = [i for i, f in field_sources.items() if f is None]
            if inaccessible or not missing:
                continue
            required = [self.names[i] for i, f in field_sources.items() if f is not None and _required(f)]
            lacking = [self.names[i] for i in missing]
            if required:
                self.fail(
                    Code.REQUIRED_INPUT_FIELD_MISSING_IN_SOME_SUBGRAPH,
                    f'Input object field "{coordinate}" is required in some subgraphs but does not appear in all'
                    f" subgraphs: it is required in {subgraph_names(required)} but does not appear in"
                    f" {subgraph_names(lacking)}",
                    required + lacking,
                    [coordinate],
                )
            else:
                self.note(
                    HintCode.INCONSISTENT_INPUT_OBJECT_FIELD,
                    f'Input object field "{name}" will not be added to "{dest.name}" in the supergraph as it does not'
                    f" appear in all subgraphs: it is defined in"
                    f" {subgraph_names(self.names[i] for i, f in field_sources.items() if f is not None)} but not in"
                    f" {subgraph_names(lacking)}.",
                    lacking,
                    [coordinate],
                )
            del dest.input_fields[name]
        if not dest.input_fields:
            self.fail(
                Code.EMPTY_MERGED_INPUT_TYPE,
                f'None of the fields of input object type "{dest.name}" are consistently defined in all the subgraphs'
                " defining that type. As only fields common to all subgraphs are merged, this would result in an empty"
                " type.",
                [self.names[i] for i in sources],
                [dest.name],
            )
