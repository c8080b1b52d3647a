"""@override: which subgraph resolves a field that moved from another one, and progressive labels."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from graphql.language import StringValueNode

from .errors import Code, CompositionError, CompositionHint, HintCode, error, hint
from .metadata import FederationMeta
from .model import Field, TypeKind
from .subgraph import Subgraph

_LABEL = re.compile(r"^[a-zA-Z][a-zA-Z0-9_\-:./]*$")
_PERCENT = re.compile(r"^percent\((\d{1,2}(\.\d{1,8})?|100)\)$")


@dataclass
class FieldMergeContext:
    """What @override decided for each subgraph (by index) defining one field."""

    used_overridden: set[int] = field(default_factory=set)
    unused_overridden: set[int] = field(default_factory=set)
    unknown_target: set[int] = field(default_factory=set)
    labels: dict[int, str] = field(default_factory=dict)

    def is_overridden(self, idx: int) -> bool:
        return idx in self.used_overridden or idx in self.unused_overridden


def override_of(f: Field) -> tuple[str | None, str | None]:
    applications = f.fed.get("override", [])
    if not applications:
        return None, None
    args = applications[0].args
    source = args.get("from")
    label = args.get("label")
    return (
        source.value if isinstance(source, StringValueNode) else None,
        label.value if isinstance(label, StringValueNode) else None,
    )


def validate_override(
    coordinate: str,
    sources: dict[int, Field | None],
    subgraphs: list[Subgraph],
    metas: list[FederationMeta],
    parent_kinds: dict[int, TypeKind],
    abstracted: dict[int, list[str]],
) -> tuple[FieldMergeContext, list[CompositionError], list[CompositionHint]]:
    """`abstracted[i]` lists the @interfaceObject types through which subgraph i provides the field, if any."""
    ctx = FieldMergeContext()
    errors: list[CompositionError] = []
    hints: list[CompositionHint] = []
    names = [s.name for s in subgraphs]
    with_override = [i for i, f in sources.items() if f is not None and f.fed.get("override")]
    type_name, field_name = coordinate.split(".")
    for idx in with_override:
        f = sources[idx]
        assert f is not None
        subgraph = names[idx]
        source_name, label = override_of(f)
        # (An @interfaceObject counts as an interface here, but Apollo names its own rule.)
        if type_name in metas[idx].interface_objects:
            errors.append(
                error(
                    Code.OVERRIDE_COLLISION_WITH_ANOTHER_DIRECTIVE,
                    "@override is not yet supported on fields of @interfaceObject types: cannot be used on field"
                    f' "{coordinate}" on subgraph "{subgraph}".',
                    [subgraph],
                    [coordinate],
                )
            )
            continue
        if parent_kinds[idx] is TypeKind.INTERFACE:
            errors.append(
                error(
                    Code.OVERRIDE_ON_INTERFACE,
                    f'@override cannot be used on field "{coordinate}" on subgraph "{subgraph}": @override is not'
                    " supported on interface type fields.",
                    [subgraph],
                    [coordinate],
                )
            )
            continue
        if source_name not in names:
            ctx.unknown_target.add(idx)
            hints.append(
                hint(
                    HintCode.FROM_SUBGRAPH_DOES_NOT_EXIST,
                    f'Source subgraph "{source_name}" for field "{coordinate}" on subgraph "{subgraph}" does not exist.',
                    [subgraph],
                    [coordinate],
                )
            )
            continue
        if source_name == subgraph:
            errors.append(
                error(
                    Code.OVERRIDE_FROM_SELF_ERROR,
                    f'Source and destination subgraphs "{source_name}" are the same for overridden field "{coordinate}"',
                    [subgraph],
                    [coordinate],
                )
            )
            continue
        from_idx = names.index(source_name)
        if from_idx in with_override:
            errors.append(
                error(
                    Code.OVERRIDE_SOURCE_HAS_OVERRIDE,
                    f'Field "{coordinate}" on subgraph "{subgraph}" is also marked with directive @override in subgraph'
                    f' "{source_name}". Only one @override directive is allowed per field.',
                    [subgraph, source_name],
                    [coordinate],
                )
            )
            continue
        from_field = sources.get(from_idx)
        if from_field is None:
            if abstracted.get(from_idx):
                types = ", ".join(f'"{t}"' for t in abstracted[from_idx])
                errors.append(
                    error(
                        Code.OVERRIDE_COLLISION_WITH_ANOTHER_DIRECTIVE,
                        f'Invalid @override on field "{coordinate}" of subgraph "{subgraph}": source subgraph'
                        f' "{source_name}" does not have field "{coordinate}" but abstract it in type {types} and'
                        " overriding abstracted fields is not supported.",
                        [subgraph, source_name],
                        [coordinate],
                    )
                )
                continue
            hints.append(
                hint(
                    HintCode.OVERRIDE_DIRECTIVE_CAN_BE_REMOVED,
                    f'Field "{coordinate}" on subgraph "{subgraph}" no longer exists in the from subgraph. The @override'
                    " directive can be removed.",
                    [subgraph],
                    [coordinate],
                )
            )
            continue
        conflict: tuple[str, str] | None = None
        for directive in ("requires", "provides"):
            if from_field.fed.get(directive):
                conflict = (directive, source_name)
        if conflict is None and metas[idx].is_external(type_name, field_name):
            conflict = ("external", subgraph)
        if conflict is not None:
            errors.append(
                error(
                    Code.OVERRIDE_COLLISION_WITH_ANOTHER_DIRECTIVE,
                    f'@override cannot be used on field "{coordinate}" on subgraph "{subgraph}" since "{coordinate}"'
                    f' on "{conflict[1]}" is marked with directive "@{conflict[0]}"',
                    [subgraph, conflict[1]],
                    [coordinate],
                )
            )
            continue
        referenced = metas[from_idx].is_used(type_name, field_name)
        if metas[from_idx].is_external(type_name, field_name):
            hints.append(
                hint(
                    HintCode.OVERRIDE_DIRECTIVE_CAN_BE_REMOVED,
                    f'Field "{coordinate}" on subgraph "{subgraph}" is not resolved anymore by the from subgraph (it is'
                    f' marked "@external" in "{source_name}"). The @override directive can be removed.',
                    [subgraph],
                    [coordinate],
                )
            )
        elif referenced:
            ctx.used_overridden.add(from_idx)
            if not label:
                hints.append(
                    hint(
                        HintCode.OVERRIDDEN_FIELD_CAN_BE_REMOVED,
                        f'Field "{coordinate}" on subgraph "{source_name}" is overridden. It is still used in some'
                        " federation directive(s) (@key, @requires, and/or @provides) and/or to satisfy interface"
                        " constraint(s), but consider marking it @external explicitly or removing it along with its"
                        " references.",
                        [source_name],
                        [coordinate],
                    )
                )
        else:
            ctx.unused_overridden.add(from_idx)
            if not label:
                hints.append(
                    hint(
                        HintCode.OVERRIDDEN_FIELD_CAN_BE_REMOVED,
                        f'Field "{coordinate}" on subgraph "{source_name}" is overridden. Consider removing it.',
                        [source_name],
                        [coordinate],
                    )
                )
        if label:
            if _valid_label(label):
                ctx.labels[idx] = label
                ctx.labels[from_idx] = label
            else:
                errors.append(
                    error(
                        Code.OVERRIDE_LABEL_INVALID,
                        f'Invalid @override label "{label}" on field "{coordinate}" on subgraph "{subgraph}": labels'
                        " must start with a letter and after that may contain alphanumerics, underscores, minuses,"
                        ' colons, periods, or slashes. Alternatively, labels may be of the form "percent(x)" where x is'
                        " a float between 0-100 inclusive.",
                        [subgraph],
                        [coordinate],
                    )
                )
            hints.append(
                hint(
                    HintCode.OVERRIDE_MIGRATION_IN_PROGRESS,
                    f'Field "{coordinate}" is currently being migrated with progressive @override. Once the migration'
                    f' is complete, remove the field from subgraph "{source_name}".',
                    [source_name],
                    [coordinate],
                )
            )
    return ctx, errors, hints


def _valid_label(label: str) -> bool:
    if _LABEL.match(label):
        return True
    match = _PERCENT.match(label)
    return bool(match) and 0 <= float(match.group(1)) <= 100
