"""Query plans as plain data: what to fetch from which subgraph, in which order, merged where.

A plan is a list of fetches, each naming the fetches it waits for. The executor runs every
fetch as soon as those are done, which gives the most parallelism the dependencies allow.
`print_plan` renders a plan as stable text for snapshots and the CLI.
"""

from __future__ import annotations

from dataclasses import dataclass

from .selection import RenameTree


@dataclass(frozen=True, slots=True)
class InputField:
    """One field of an entity representation: written as `name`, read from `key`."""

    name: str
    key: str
    selections: tuple[InputSelection, ...] | None = None


@dataclass(frozen=True, slots=True)
class InputFragment:
    """Part of a representation that applies only when the value's type matches."""

    type_condition: str
    selections: tuple[InputSelection, ...]


InputSelection = InputField | InputFragment


@dataclass(frozen=True, slots=True)
class EntityInput:
    """How to turn an object whose type matches `type_condition` into a representation."""

    type_condition: str
    typename: str  # the __typename sent (an interface's name when the target knows only it)
    selections: tuple[InputSelection, ...]
    key_fields: tuple[str, ...]  # representation is skipped when one of these is null


@dataclass(frozen=True, slots=True)
class ContextLevel:
    """An ancestor that may set a context: `prefix` segments of the merge path lead to it, and
    `reads` are (response key, field keys below it) to try in order; the first key present wins."""

    prefix: int
    reads: tuple[tuple[str, tuple[str, ...]], ...]


@dataclass(frozen=True, slots=True)
class ContextVariable:
    """A variable of an entity fetch filled, per object, from the nearest ancestor setting a context."""

    variable: str
    type: str
    levels: tuple[ContextLevel, ...]  # nearest ancestor first


@dataclass(frozen=True, slots=True)
class EntityPart:
    """One `_entities` selection of an entity fetch: where its objects are and how to send them.

    Entity fetches to one subgraph that wait for the same fetches are sent as one request, each
    under its own response key (`_entities`, or `_entities1`, … when there are several)."""

    merge_path: tuple[str, ...]  # response keys, "@" for "every item of the list"
    inputs: tuple[EntityInput, ...]
    response_key: str = "_entities"
    variable: str = "representations"  # the representations variable of this part
    renames: RenameTree | None = None
    # @fromContext arguments: objects with different values are sent in separate requests
    contexts: tuple[ContextVariable, ...] = ()


@dataclass(frozen=True, slots=True)
class Fetch:
    id: int
    subgraph: str
    operation_kind: str  # "query" or "mutation"
    document: str  # the GraphQL sent to the subgraph
    variable_usages: tuple[str, ...]  # client variables the document uses
    parts: tuple[EntityPart, ...] = ()  # empty for root fetches
    depends_on: tuple[int, ...] = ()
    renames: RenameTree | None = None  # root fetches: aliases to turn back into response keys

    @property
    def is_entity_fetch(self) -> bool:
        return bool(self.parts)


@dataclass(frozen=True, slots=True)
class QueryPlan:
    kind: str  # operation kind
    fetches: tuple[Fetch, ...]  # in an order where dependencies come first


def _print_inputs(selections: tuple[InputSelection, ...]) -> str:
    parts: list[str] = []
    for sel in selections:
        if isinstance(sel, InputField):
            text = sel.name if sel.key == sel.name else f"{sel.name}<-{sel.key}"
            if sel.selections is not None:
                text += " " + _print_inputs(sel.selections)
            parts.append(text)
        else:
            parts.append(f"... on {sel.type_condition} {_print_inputs(sel.selections)}")
    return "{ " + " ".join(parts) + " }"


def print_plan(plan: QueryPlan) -> str:
    lines = [f"QueryPlan ({plan.kind}) {{"]
    for fetch in plan.fetches:
        head = f'  Fetch #{fetch.id} "{fetch.subgraph}"'
        if len(fetch.parts) == 1:
            head += " at " + ".".join(fetch.parts[0].merge_path)
        if fetch.depends_on:
            head += " after " + ", ".join(f"#{d}" for d in fetch.depends_on)
        lines.append(head + " {")
        for part in fetch.parts:
            if len(fetch.parts) > 1:
                lines.append(f"    {part.response_key} at {'.'.join(part.merge_path)}:")
            for entity_input in part.inputs:
                sent = "" if entity_input.typename == entity_input.type_condition else f" as {entity_input.typename}"
                lines.append(
                    f"    ... on {entity_input.type_condition}{sent} {_print_inputs(entity_input.selections)}"
                )
        for part in fetch.parts:
            for ctx in part.contexts:
                levels = " | ".join(
                    f"{'.'.join(part.merge_path[: level.prefix]) or '(root)'}."
                    + "/".join(".".join((key,) + rest) for key, rest in level.reads)
                    for level in ctx.levels
                )
                lines.append(f"    ${ctx.variable} <- {levels}")
        if fetch.parts:
            lines.append("    =>")
        lines.append("    " + fetch.document)
        lines.append("  }")
    lines.append("}")
    return "\n".join(lines)
