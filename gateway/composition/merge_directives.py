"""Directive-related merging: applied directives (deferred until every element exists), access-control propagation
between interfaces and implementations, @join__directive, the schema definition, directive definitions, and the
specs the supergraph links."""

from __future__ import annotations

from graphql.language import NameNode, ObjectFieldNode, ObjectValueNode

from .applied import merge_applications
from .directive_names import first_subgraph_using
from .errors import HintCode
from .merge_base import ACCESS_CONTROL, MergerBase, _same_values
from .model import (
    DEFAULT_ROOT_NAMES,
    EXECUTABLE_LOCATIONS,
    ROOT_KINDS,
    Directive,
    DirectiveDef,
    InputValue,
    TypeKind,
    TypeRef,
)
from .sdl import EnumName, make_directive
from .specs import CACHE_TAG_FEATURE, SUPERGRAPH_FEATURES
from .subgraph import Subgraph


class DirectiveMerging(MergerBase):
    def _record_applied(self, sources: dict, dest: object, access_coordinate: str | None = None) -> None:
        """Queue the merge of `dest`'s applied directives; `access_coordinate` names it for auth propagation."""
        # @inaccessible is merged at once: input and enum merging need to know whether an element is hidden.
        self._merge_applied(sources, dest, lambda name: name == "inaccessible")
        self.pending.append((sources, dest, access_coordinate))

    def access_control_sources(self) -> dict[tuple[str, str], list[object]]:
        """Extra sources for auth directives: implementations' requirements also guard their interfaces, and
        fields an @interfaceObject provides carry their requirements down to the implementations."""
        if self._access_sources is not None:
            return self._access_sources
        extra: dict[tuple[str, str], list[object]] = {}
        interfaces_of: dict[str, list[str]] = {}
        for t in self.sup.types.values():
            if t.kind is TypeKind.INTERFACE:
                for impl in self.possible_runtime_types(t.name):
                    interfaces_of.setdefault(impl, []).append(t.name)
        for idx, sg in enumerate(self.sgs):
            for t in sg.types.values():
                if t.kind is not TypeKind.OBJECT:
                    continue
                for name in ACCESS_CONTROL:
                    if t.fed.get(name):
                        for itf in interfaces_of.get(t.name, []):
                            extra.setdefault((itf, name), []).append(t)
                for f in t.fields.values():
                    if self.metas[idx].is_external(t.name, f.name):
                        continue
                    for name in ACCESS_CONTROL:
                        if not f.fed.get(name):
                            continue
                        if t.name in self.metas[idx].interface_objects:
                            others: list[str] = []
                            for impl in self.possible_runtime_types(t.name):
                                extra.setdefault((f"{impl}.{f.name}", name), []).append(f)
                                others += [i for i in interfaces_of.get(impl, []) if i != t.name and i not in others]
                            for itf in others:
                                extra.setdefault((f"{itf}.{f.name}", name), []).append(f)
                        else:
                            for itf in interfaces_of.get(t.name, []):
                                extra.setdefault((f"{itf}.{f.name}", name), []).append(f)
        self._access_sources = extra
        return extra

    def _merge_applied(self, sources: dict, dest: object, wanted, access_coordinate: str | None = None) -> None:
        per_name: dict[str, list[list[Directive]]] = {}
        for idx, source in sources.items():
            if source is None:
                continue
            grouped: dict[str, list[Directive]] = {}
            for d in self.mergeable(idx, source):
                grouped.setdefault(d.name, []).append(d)
            for name, apps in grouped.items():
                if wanted(name):
                    per_name.setdefault(name, []).append(apps)
        if access_coordinate is not None:
            for name in ACCESS_CONTROL:
                if name not in self.merged_directives or not wanted(name):
                    continue
                for element in self.access_control_sources().get((access_coordinate, name), []):
                    applications = element.fed[name]  # type: ignore[attr-defined]
                    per_name.setdefault(name, []).append([Directive(name, d.args) for d in applications])
        names = list(per_name)
        if access_coordinate is not None:
            # As Apollo: on fields and interfaces, access-control requirements come first, in the order of their
            # specs' links in the supergraph.
            names = [n for n in self._access_control_order() if n in per_name] + [
                n for n in names if n not in ACCESS_CONTROL
            ]
        for name in names:
            per_source = per_name[name]
            definition = self.sup.composed.definition(name)
            repeatable = definition.repeatable if definition is not None else None
            dest.directives.extend(merge_applications(name, per_source, repeatable))  # type: ignore[attr-defined]

    def _access_control_order(self) -> list[str]:
        if self._access_order is None:
            first_use = first_subgraph_using(self.sgs)
            self._access_order = sorted(
                ACCESS_CONTROL, key=lambda n: (first_use.get(n, len(self.sgs)), ACCESS_CONTROL.index(n))
            )
        return self._access_order

    def _merge_all_applied(self) -> None:
        for sources, dest, access_coordinate in self.pending:
            self._merge_applied(sources, dest, lambda name: name != "inaccessible", access_coordinate)
        self.pending = []

    def _add_join_directives(self, sources: dict, dest) -> None:
        """Directives the router reads per subgraph (@cacheTag) travel as @join__directive, one per distinct use."""
        joins: list[tuple[str, dict, list[EnumName]]] = []
        for idx, source in sources.items():
            for d in (getattr(source, "fed", {}) if source is not None else {}).get("cacheTag", []):
                args = {k: v for k, v in d.args.items()}
                for name, existing_args, graphs in joins:
                    if name == "federation__cacheTag" and _same_values(existing_args, args):
                        graphs.append(self.graph(idx))
                        break
                else:
                    joins.append(("federation__cacheTag", args, [self.graph(idx)]))
        for name, args, graphs in joins:
            self.uses_cache_tag = True
            d = make_directive("join__directive", graphs=list(graphs), name=name)
            d.args["args"] = ObjectValueNode(
                fields=tuple(ObjectFieldNode(name=NameNode(value=k), value=v) for k, v in args.items())
            )
            dest.directives.append(d)

    def _merge_schema_definition(self) -> None:
        sources = {i: _SchemaSource(sg) for i, sg in enumerate(self.sgs)}
        holder = _SchemaSource(None)
        self._merge_description(sources, holder)
        self._record_applied(sources, holder)
        self.sup.schema_description = holder.description
        self.sup.schema_directives = holder.directives
        for kind in ROOT_KINDS:
            default = DEFAULT_ROOT_NAMES[kind]
            if any(sg.roots.get(kind) == default for sg in self.sgs) and default in self.sup.types:
                self.sup.roots[kind] = default

    def _merge_directive_definitions(self) -> None:
        names: list[str] = []
        for sg in self.sgs:
            names.extend(n for n in sg.directive_defs if n not in names)
        for feature in self.sup.composed.features:
            self.sup.directive_defs.update(feature.definitions)
        for name in names:
            if name in self.sup.directive_defs:
                continue
            sources = {i: sg.directive_defs.get(name) for i, sg in enumerate(self.sgs)}
            if not any(d is not None and set(d.locations) & EXECUTABLE_LOCATIONS for d in sources.values()):
                continue
            if any(d is None for d in sources.values()):
                self.note(
                    HintCode.INCONSISTENT_EXECUTABLE_DIRECTIVE_PRESENCE,
                    f'Executable directive "@{name}" will not be part of the supergraph as it does not appear in all'
                    " subgraphs.",
                    [self.names[i] for i, d in sources.items() if d is not None],
                    [f"@{name}"],
                )
                continue
            defs = [d for d in sources.values() if d is not None]
            locations = [loc for loc in defs[0].locations if loc in EXECUTABLE_LOCATIONS]
            for d in defs[1:]:
                locations = [loc for loc in locations if loc in d.locations]
            if not locations:
                continue
            dest = DirectiveDef(name=name, locations=sorted(locations), repeatable=all(d.repeatable for d in defs))
            self._merge_description(sources, dest)
            arg_names: list[str] = []
            for d in defs:
                arg_names.extend(a for a in d.args if a not in arg_names)
            for arg_name in arg_names:
                if any(arg_name not in d.args for d in defs):
                    continue
                arg_sources = {i: d.args[arg_name] for i, d in sources.items() if d is not None}
                dest_arg = InputValue(name=arg_name, type=TypeRef.named("String"))
                self._merge_type_reference(arg_sources, dest_arg, f"@{name}({arg_name}:)", is_input=True)
                self._merge_default(arg_sources, dest_arg, f"@{name}({arg_name}:)", "Argument")
                dest.args[arg_name] = dest_arg
            self.sup.directive_defs[name] = dest

    def _register_features(self) -> None:
        features = []
        imports: dict[str, list[str | tuple[str, str]]] = {}
        first_use = first_subgraph_using(self.sgs)
        order = {f.name: i for i, f in enumerate(SUPERGRAPH_FEATURES)}

        def first_user(feature) -> tuple[int, int]:
            return min((first_use.get(d, len(self.sgs)) for d in feature.directives), default=0), order[feature.name]

        for feature in sorted(SUPERGRAPH_FEATURES, key=first_user):
            used = [d for d in feature.directives if d in self.merged_directives]
            if not used:
                continue
            features.append(feature)
            renamed = self.sup.directive_names
            # A directive renamed by the subgraphs is imported under that name: (spec name, supergraph name).
            imports[feature.name] = [
                (d, renamed[d]) if d in renamed else f"@{d}" for d in used if d != feature.name or d in renamed
            ]
        if self.uses_cache_tag:
            features.append(CACHE_TAG_FEATURE)
        self.sup.features = features
        self.sup.feature_imports = imports


class _SchemaSource:
    def __init__(self, sg: Subgraph | None):
        self.description = sg.schema_description if sg else None
        self.directives: list[Directive] = list(sg.schema_directives) if sg else []
        self.fed = sg.schema_fed if sg else {}
