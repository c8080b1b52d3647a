"""@context / @fromContext: where a contextual argument's value comes from, and how it gets there.

A field argument marked `@fromContext` takes its value from the nearest ancestor in the response
path whose type sets the context, reading the context's selection on it. The planner handles this
in two steps:

- before planning, the operation gets the context selection added, under reserved response keys,
  at every enclosing object that may set the context (`with_context_selections`); the planner then
  fetches it like any other field, and the response shaper, which follows the client's operation,
  leaves it out;
- the contextual field is asked in an entity fetch with a variable for each such argument, and the
  fetch carries `ContextVariable`s saying which ancestors to read it from (`context_variable`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import cache

from graphql.language import ArgumentNode, NameNode, VariableNode

from ..supergraph.model import ContextArgument, Supergraph, unwrap_type_name
from .fieldset import parse_field_set
from .groups import Group, reaches
from .operation import FieldSelection, FragmentSelection, Operation, Selection, args_key
from .plan import ContextLevel, ContextVariable


@dataclass(frozen=True, slots=True)
class _Alternative:
    """One way to read a context value: on objects of `condition` (None: any), this field."""

    key: str  # reserved response key the field is fetched under
    condition: str | None
    field: FieldSelection
    rest: tuple[str, ...]  # field names below it, down to the value


@cache
def _alternatives(context: str, selection: str) -> tuple[_Alternative, ...]:
    """`{ prop }` or `... on A { x } ... on B { y }` -> the fields to fetch and where the value sits."""
    text = selection.strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1]
    base = "_ctx_" + re.sub(r"[^_0-9A-Za-z]", "_", context)
    found: list[_Alternative] = []

    def first_field(selections: tuple[Selection, ...], condition: str | None) -> None:
        for sel in selections:
            if isinstance(sel, FragmentSelection):
                first_field(sel.selections, sel.type_condition or condition)
            elif not sel.is_typename:
                key = f"{base}_{len(found)}"
                found.append(_Alternative(key, condition, replace(sel, key=key), _path_below(sel)))
                return

    first_field(parse_field_set(text), None)
    return tuple(found)


def _path_below(sel: FieldSelection) -> tuple[str, ...]:
    path: list[str] = []
    current = sel.selections
    while current:
        fields = [s for s in current if isinstance(s, FieldSelection) and not s.is_typename]
        if not fields:
            break
        path.append(fields[0].key)
        current = fields[0].selections
    return tuple(path)


def _applies(sg: Supergraph, condition: str | None, object_type: str) -> bool:
    return condition is None or condition == object_type or object_type in sg.possible_types(condition)


def _injected(sg: Supergraph, argument: ContextArgument, type_name: str) -> tuple[Selection, ...]:
    """The context's selection for objects of `type_name` that set the context, as fragments."""
    carriers = sg.context_carriers(argument.context)
    added: list[Selection] = []
    for object_type in sg.possible_types(type_name):
        if object_type not in carriers:
            continue
        for alternative in _alternatives(argument.context, argument.selection):
            if _applies(sg, alternative.condition, object_type):
                added.append(FragmentSelection(object_type, (alternative.field,)))
                break
    return tuple(added)


def _same(one: Selection, other: Selection) -> bool:
    return (
        isinstance(one, FragmentSelection)
        and isinstance(other, FragmentSelection)
        and one.type_condition == other.type_condition
        and one.selections == other.selections
    )


def contextual_arguments(sg: Supergraph, type_name: str, field_name: str) -> tuple[ContextArgument, ...]:
    found: list[ContextArgument] = []
    for join in sg.field_graphs(type_name, field_name).values():
        found.extend(a for a in join.context_arguments if a not in found)
    return tuple(found)


def with_context_selections(sg: Supergraph, operation: Operation, root_type: str) -> Operation:
    """The operation with every context selection a contextual field needs added at its ancestors."""
    if not sg.contexts:
        return operation
    levels: list[tuple[str, list[Selection]]] = []  # enclosing objects: (type, selections to add)

    def walk(selections: tuple[Selection, ...], type_name: str) -> tuple[Selection, ...]:
        result: list[Selection] = []
        for sel in selections:
            if isinstance(sel, FragmentSelection):
                result.append(FragmentSelection(sel.type_condition, walk(sel.selections, sel.type_condition or type_name)))
                continue
            for argument in contextual_arguments(sg, type_name, sel.name):
                for level_type, extra in levels[:-1]:  # ancestors of the object holding the field
                    for added in _injected(sg, argument, level_type):
                        if not any(_same(added, e) for e in extra):
                            extra.append(added)
            if sel.selections is None:
                result.append(sel)
                continue
            definition = sg.field_def(type_name, sel.name)
            child_type = unwrap_type_name(str(definition.type)) if definition else type_name
            levels.append((child_type, []))
            children = walk(sel.selections, child_type)
            _, extra = levels.pop()
            result.append(replace(sel, selections=children + tuple(extra)))
        return tuple(result)

    levels.append((root_type, []))
    selections = walk(operation.selections, root_type)
    _, extra = levels.pop()
    return replace(operation, selections=selections + tuple(extra), shape_cache={})


def context_variable(
    sg: Supergraph, argument: ContextArgument, variable: str, tpath: tuple[str, ...], path: tuple[str, ...]
) -> ContextVariable:
    """Where an entity fetch at `path` (types `tpath` from the root down) reads a context value."""
    prefixes = _level_prefixes(path)
    carriers = sg.context_carriers(argument.context)
    alternatives = _alternatives(argument.context, argument.selection)
    levels: list[ContextLevel] = []
    for level in range(len(tpath) - 2, -1, -1):  # strict ancestors, nearest first
        if not carriers.intersection(sg.possible_types(tpath[level])):
            continue
        levels.append(ContextLevel(prefixes[level], tuple((a.key, a.rest) for a in alternatives)))
    return ContextVariable(variable, argument.type, tuple(levels))


def _level_prefixes(path: tuple[str, ...]) -> list[int]:
    """For each object level (the root, then each field), how many merge-path segments reach it."""
    prefixes = [0]
    for index, segment in enumerate(path):
        if segment != "@":
            prefixes.append(index + 1)
        else:
            prefixes[-1] = index + 1
    return prefixes





class ContextBinder:
    """Gives contextual fields in entity fetches their variables, one per argument and fetch."""

    def __init__(self, sg: Supergraph, taken: set[str]) -> None:
        self.sg = sg
        self.taken = taken  # the client's variable names
        self.counter = 0
        self.bound: dict[tuple[int, str, str], FieldSelection] = {}

    def bind(self, group: Group, tpath: tuple[str, ...], field_sel: FieldSelection, arguments: tuple[ContextArgument, ...]) -> FieldSelection:
        """The field with `arg: $contextualArgument_N` added; the group learns where N comes from."""
        memo = (group.id, field_sel.key, field_sel.args_key)
        found = self.bound.get(memo)
        if found is not None:
            return found
        self.counter += 1
        added: list[ArgumentNode] = []
        for index, argument in enumerate(arguments):
            name = f"contextualArgument_{self.counter}_{index}"
            while name in self.taken:
                name = "_" + name
            added.append(ArgumentNode(name=NameNode(value=argument.name), value=VariableNode(name=NameNode(value=name))))
            group.contexts.append(context_variable(self.sg, argument, name, tpath, group.path))
        new_arguments = field_sel.arguments + tuple(added)
        bound = replace(field_sel, arguments=new_arguments, args_key=args_key(new_arguments))
        self.bound[memo] = bound
        return bound


def add_context_dependencies(groups: list[Group], available: dict[tuple[str, str], list[tuple[Group, tuple[str, ...]]]]) -> None:
    """A fetch with contextual variables waits for the fetches that bring the context values."""
    for group in groups:
        for variable in group.contexts:
            for level in variable.levels:
                path_key = ".".join(p for p in group.path[: level.prefix] if p != "@")
                for key, _ in level.reads:
                    for provider, _types in available.get((path_key, key), ()):
                        if provider is not group and not reaches(provider, group):
                            group.deps.add(provider)


__all__ = ["ContextBinder", "add_context_dependencies", "context_variable", "with_context_selections"]
