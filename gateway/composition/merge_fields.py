"""Merging object types and fields: @override, @external, arguments, field sharing, and the @join__field that tell
the planner which subgraph resolves a field and how (requires, provides, external, type, override)."""

from __future__ import annotations

import re

from .errors import Code, HintCode
from .merge_base import _required, _str
from .merge_directives import DirectiveMerging
from .metadata import fields_arg
from .model import Field, InputValue, TypeDef, TypeKind, TypeRef
from .override import FieldMergeContext, validate_override
from .reporting import join_strings, mismatch, subgraph_names
from .sdl import make_directive, value_key


class FieldMerging(DirectiveMerging):
    def _fields_shallow(self, sources: dict[int, TypeDef], dest: TypeDef) -> dict[str, dict[int, Field | None]]:
        """For each field name (in first-seen order), its definition in each subgraph having the parent type."""
        having_parent: list[int] = []
        for idx, sg in enumerate(self.sgs):
            if dest.name in sg.types:
                having_parent.append(idx)
            elif any(itf in self.metas[idx].interface_objects for itf in dest.interfaces):
                having_parent.append(idx)
        result: dict[str, dict[int, Field | None]] = {}
        for idx, source in sources.items():
            for f in source.fields.values():
                if f.name not in result:
                    result[f.name] = {i: None for i in having_parent}
                result[f.name][idx] = f
        return result

    def _merge_object(self, sources: dict[int, TypeDef], dest: TypeDef) -> None:
        shallow = self._fields_shallow(sources, dest)
        for name in shallow:
            dest.fields[name] = Field(name=name, type=TypeRef.named("String"))
        if not dest.fields:
            # Only root types can end up empty (a subgraph's Query with nothing but federation fields).
            del self.sup.types[dest.name]
            self.sup.roots = {k: v for k, v in self.sup.roots.items() if v != dest.name}
            return
        for name, field_sources in shallow.items():
            coordinate = f"{dest.name}.{name}"
            ctx = self._validate_override(coordinate, field_sources)
            if dest.name == self.sup.roots.get("subscription"):
                self._validate_subscription_field(coordinate, field_sources)
            self._merge_field(field_sources, dest.fields[name], dest, ctx)
            self._validate_field_sharing(field_sources, dest, dest.fields[name], ctx)

    def _validate_subscription_field(self, coordinate: str, sources: dict[int, Field | None]) -> None:
        # A subscription is a long-lived stream from one subgraph: it cannot be shared.
        shared = [self.names[i] for i, f in sources.items() if f is not None and f.fed.get("shareable")]
        if shared:
            self.fail(
                Code.INVALID_FIELD_SHARING,
                "Fields on root level subscription object cannot be marked as shareable",
                shared,
                [coordinate],
            )

    def _validate_override(self, coordinate: str, sources: dict[int, Field | None]) -> FieldMergeContext:
        if not any(f is not None and f.fed.get("override") for f in sources.values()):
            return FieldMergeContext()
        type_name, field_name = coordinate.split(".")
        kinds = {i: self.kind_in(i, self.sgs[i].types[type_name]) for i in sources if type_name in self.sgs[i].types}
        abstracted = {
            i: [t for t, _ in self._abstracting_fields(type_name, field_name, i)] for i in range(len(self.sgs))
        }
        ctx, errors, hints = validate_override(coordinate, sources, self.sgs, self.metas, kinds, abstracted)
        self.errors.extend(errors)
        self.hints.extend(hints)
        return ctx

    def _abstracting_fields(self, type_name: str, field_name: str, idx: int) -> list[tuple[str, Field]]:
        """Fields of @interfaceObject types standing in, in subgraph idx, for `type_name.field_name`."""
        dest = self.sup.types.get(type_name)
        sg = self.sgs[idx]
        if dest is None or dest.kind is not TypeKind.OBJECT or type_name in sg.types:
            return []
        out = []
        for itf in dest.interfaces:
            t = sg.types.get(itf)
            if t is not None and t.kind is TypeKind.OBJECT and field_name in t.fields:
                itf_type = self.sup.types.get(itf)
                if itf_type is None or itf_type.kind is TypeKind.INTERFACE:
                    out.append((itf, t.fields[field_name]))
        return out

    def _merge_field(
        self, sources: dict[int, Field | None], dest: Field, parent: TypeDef, ctx: FieldMergeContext
    ) -> None:
        coordinate = f"{parent.name}.{dest.name}"
        every_external = True
        for idx, f in sources.items():
            if f is None:
                every_external = every_external and all(
                    self.metas[idx].is_external(t, dest.name)
                    for t, _ in self._abstracting_fields(parent.name, dest.name, idx)
                )
            else:
                every_external = every_external and self.metas[idx].is_external(parent.name, dest.name)
            if not every_external:
                break
        if every_external:
            defining = []
            for idx, f in sources.items():
                if f is not None:
                    defining.append(self.names[idx])
                else:
                    through = self._abstracting_fields(parent.name, dest.name, idx)
                    if through:
                        types = ", ".join(f'"{t}"' for t, _ in through)
                        defining.append(f"{self.names[idx]} (through @interaceObject type {types})")
            self.fail(
                Code.EXTERNAL_MISSING_ON_BASE,
                f'Field "{coordinate}" is marked @external on all the subgraphs in which it is listed'
                f" ({subgraph_names(defining)}).",
                [n for n in defining],
                [coordinate],
            )
            return
        without_external: dict[int, Field | None] = {}
        for idx, f in sources.items():
            if f is None or not self.metas[idx].is_external(parent.name, dest.name):
                without_external[idx] = f
                continue
            without_external[idx] = None
            for d in self.mergeable(idx, f):
                self.fail(
                    Code.MERGED_DIRECTIVE_APPLICATION_ON_EXTERNAL,
                    f'[{self.names[idx]}] Cannot apply merged directive @{d.name} to external field "{coordinate}"',
                    [self.names[idx]],
                    [coordinate],
                )
        self._merge_description(without_external, dest)
        self._record_applied(without_external, dest, coordinate)
        self._merge_arguments(without_external, dest, coordinate)
        typed = without_external if any(f is not None for f in without_external.values()) else sources
        all_equal = self._merge_type_reference(typed, dest, coordinate, is_input=False)
        if any(f is not None and self.metas[i].is_external(parent.name, dest.name) for i, f in sources.items()):
            self._validate_external_fields(sources, dest, coordinate, parent.name, all_equal)
        self._add_join_field(sources, dest, parent.name, all_equal, ctx)
        self._add_join_directives(sources, dest)

    def _merge_arguments(self, sources: dict[int, Field | None], dest: Field, coordinate: str) -> None:
        names: list[str] = []
        for f in sources.values():
            if f is not None:
                names.extend(a for a in f.args if a not in names)
        for arg_name in names:
            arg_coordinate = f"{coordinate}({arg_name}:)"
            if any(
                f is not None and f.args.get(arg_name) is not None and f.args[arg_name].fed.get("fromContext")
                for f in sources.values()
            ):
                # Contextual arguments are filled by the router, not by clients: not part of the supergraph API.
                continue
            missing = [i for i, f in sources.items() if f is not None and arg_name not in f.args]
            if missing:
                required = [
                    self.names[i]
                    for i, f in sources.items()
                    if f is not None and arg_name in f.args and _required(f.args[arg_name])
                ]
                if required:
                    self.fail(
                        Code.REQUIRED_ARGUMENT_MISSING_IN_SOME_SUBGRAPH,
                        f'Argument "{arg_coordinate}" is required in some subgraphs but does not appear in all'
                        f" subgraphs: it is required in {subgraph_names(required)} but does not appear in"
                        f" {subgraph_names(self.names[i] for i in missing)}",
                        required + [self.names[i] for i in missing],
                        [arg_coordinate],
                    )
                else:
                    self.note(
                        HintCode.INCONSISTENT_ARGUMENT_PRESENCE,
                        f'Optional argument "{arg_coordinate}" will not be included in the supergraph as it does not'
                        " appear in all subgraphs.",
                        [self.names[i] for i in missing],
                        [arg_coordinate],
                    )
                continue
            arg_sources = {i: (f.args.get(arg_name) if f is not None else None) for i, f in sources.items()}
            dest_arg = InputValue(name=arg_name, type=TypeRef.named("String"))
            dest.args[arg_name] = dest_arg
            self._merge_description(arg_sources, dest_arg)
            self._record_applied(arg_sources, dest_arg)
            self._merge_type_reference(arg_sources, dest_arg, arg_coordinate, is_input=True)
            self._merge_default(arg_sources, dest_arg, arg_coordinate, "Argument")

    def _validate_external_fields(
        self, sources: dict[int, Field | None], dest: Field, coordinate: str, parent: str, all_equal: bool
    ) -> None:
        bad_type = False
        missing_args: list[str] = []
        bad_arg_types: list[str] = []
        bad_defaults: list[str] = []
        for idx, f in sources.items():
            if f is None or not self.metas[idx].is_external(parent, f.name):
                continue
            if not (f.type == dest.type or (not all_equal and self.is_strict_subtype(dest.type, f.type))):
                bad_type = True
            for name, dest_arg in dest.args.items():
                arg = f.args.get(name)
                if arg is None:
                    missing_args.append(name)
                    continue
                if arg.type != dest_arg.type and not self.is_strict_subtype(arg.type, dest_arg.type):
                    bad_arg_types.append(name)
                if value_key(arg.default) != value_key(dest_arg.default):
                    bad_defaults.append(name)
        involved = [self.names[i] for i, f in sources.items() if f is not None]
        if bad_type:
            values = [(self.names[i], f'type "{f.type}"') for i, f in sources.items() if f is not None]
            self.fail(
                Code.EXTERNAL_TYPE_MISMATCH,
                f'Type of field "{coordinate}" is incompatible across subgraphs (where marked @external): it has '
                + mismatch(values, f'type "{dest.type}"'),
                involved,
                [coordinate],
            )
        for name in dict.fromkeys(missing_args):
            self.fail(
                Code.EXTERNAL_ARGUMENT_MISSING,
                f'Field "{coordinate}" is missing argument "{coordinate}({name}:)" in some subgraphs where it is marked'
                " @external.",
                involved,
                [f"{coordinate}({name}:)"],
            )
        for name in dict.fromkeys(bad_arg_types):
            self.fail(
                Code.EXTERNAL_ARGUMENT_TYPE_MISMATCH,
                f'Type of argument "{coordinate}({name}:)" is incompatible across subgraphs (where "{coordinate}" is'
                " marked @external).",
                involved,
                [f"{coordinate}({name}:)"],
            )
        for name in dict.fromkeys(bad_defaults):
            self.fail(
                Code.EXTERNAL_ARGUMENT_DEFAULT_MISMATCH,
                f'Argument "{coordinate}({name}:)" has incompatible defaults across subgraphs (where "{coordinate}" is'
                " marked @external).",
                involved,
                [f"{coordinate}({name}:)"],
            )

    def _needs_join_field(self, sources: dict, parent: str, all_equal: bool, ctx: FieldMergeContext) -> bool:
        if not all_equal:
            return True
        if ctx.used_overridden or ctx.labels:
            return True
        for source in sources.values():
            if (
                source is not None
                and isinstance(source, Field)
                and any(a.fed.get("fromContext") for a in source.args.values())
            ):
                return True
        for idx, source in sources.items():
            if source is not None and idx not in ctx.unused_overridden:
                if isinstance(source, Field) and (
                    self.metas[idx].is_external(parent, source.name)
                    or source.fed.get("provides")
                    or source.fed.get("requires")
                ):
                    return True
            elif parent in self.sgs[idx].types:
                return True
        return False

    def _add_join_field(self, sources: dict, dest, parent: str, all_equal: bool, ctx: FieldMergeContext) -> None:
        if not self._needs_join_field(sources, parent, all_equal, ctx):
            return
        for idx, source in sources.items():
            label = ctx.labels.get(idx)
            if source is None or (idx in ctx.unused_overridden and not label):
                continue
            args: dict[str, object] = {"graph": self.graph(idx)}
            if isinstance(source, Field):
                requires = source.fed.get("requires", [])
                provides = source.fed.get("provides", [])
                if requires:
                    args["requires"] = fields_arg(requires[0])
                if provides:
                    args["provides"] = fields_arg(provides[0])
                overrides = source.fed.get("override", [])
                if overrides:
                    args["override"] = _str(overrides[-1], "from")
            if not all_equal:
                args["type"] = str(source.type)
            if isinstance(source, Field) and self.metas[idx].is_external(parent, source.name):
                args["external"] = True
            if idx in ctx.used_overridden:
                args["usedOverridden"] = True
            if label:
                args["overrideLabel"] = label
            if isinstance(source, Field):
                contexts = self._context_arguments(idx, source)
                if contexts:
                    args["contextArguments"] = contexts
            dest.directives.append(make_directive("join__field", **args))

    def _context_arguments(self, idx: int, f: Field) -> list[dict[str, str]]:
        out = []
        for arg in f.args.values():
            apps = arg.fed.get("fromContext", [])
            if not apps:
                continue
            value = _str(apps[0], "field") or ""
            # The selection is kept as written after the context name, spaces included, as Apollo prints it.
            match = re.match(r"^\s*\$\s*([A-Za-z_]\w*)(.*)$", value, re.S)
            if not match:
                continue
            out.append(
                {
                    "context": f"{self.names[idx]}__{match.group(1)}",
                    "name": arg.name,
                    "type": str(arg.type),
                    "selection": match.group(2),
                }
            )
        return out

    def _validate_field_sharing(
        self, sources: dict[int, Field | None], parent: TypeDef, dest: Field, ctx: FieldMergeContext
    ) -> None:
        shareable: list[int] = []
        non_shareable: list[tuple[int, str]] = []
        resolving: list[str] = []

        def categorize(idx: int, label: str, type_name: str) -> None:
            if self.metas[idx].is_fully_external(type_name, dest.name):
                return
            resolving.append(label)
            if self.metas[idx].is_shareable(type_name, dest.name):
                shareable.append(idx)
            else:
                non_shareable.append((idx, label))

        for idx, f in sources.items():
            label = f'"{self.names[idx]}"'
            if f is None:
                for itf, _ in self._abstracting_fields(parent.name, dest.name, idx):
                    categorize(idx, label + f' (through @interfaceObject field "{itf}.{dest.name}")', itf)
                continue
            if ctx.is_overridden(idx):
                continue
            categorize(idx, label, parent.name)
        if non_shareable and (shareable or len(non_shareable) > 1):
            coordinate = f"{parent.name}.{dest.name}"

            def listing(labels: list[str]) -> str:
                return ("subgraph " if len(labels) == 1 else "subgraphs ") + join_strings(labels)

            resolving_text = listing(resolving)
            non_shareable_text = listing([label for _, label in non_shareable]) if shareable else "all of them"
            extra = ""
            unknown = next((label for idx, label in non_shareable if idx in ctx.unknown_target), None)
            if unknown is not None:
                extra = (
                    f' (please note that "{coordinate}" has an @override directive in {unknown} that targets an unknown'
                    " subgraph so this could be due to misspelling the @override(from:) argument)"
                )
            self.fail(
                Code.INVALID_FIELD_SHARING,
                f'Non-shareable field "{coordinate}" is resolved from multiple subgraphs: it is resolved from'
                f" {resolving_text} and defined as non-shareable in {non_shareable_text}{extra}",
                [self.names[i] for i, f in sources.items() if f is not None],
                [coordinate],
            )
