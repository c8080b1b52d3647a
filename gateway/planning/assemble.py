"""Fetch groups -> the plan: subgraph documents, variables, inputs and dependencies as data.

Entity groups of one subgraph that wait for exactly the same fetches would be sent at the same
moment, so they become one request: one `_entities` selection per group, each with its own
representations variable and response key.
"""

from __future__ import annotations

import re

from graphql import print_ast

from .groups import Group, Groups, direct_deps
from .operation import Operation
from .plan import EntityInput, EntityPart, Fetch, QueryPlan
from .selection import collect_variables, print_selset, rename_tree, resolve_conflicts


def _batches(ordered: list[Group]) -> list[list[Group]]:
    """Groups in order, entity groups of one subgraph with the same dependencies together."""
    batches: list[list[Group]] = []
    open_batches: dict[tuple[str, frozenset[int]], list[Group]] = {}
    for group in ordered:
        if group.kind != "entity" or group.contexts:
            # a fetch with @fromContext variables is sent once per distinct value: alone
            batches.append([group])
            continue
        key = (group.subgraph, frozenset(d.id for d in direct_deps(group)))
        batch = open_batches.get(key)
        if batch is None:
            batch = open_batches[key] = [group]
            batches.append(batch)
        else:
            batch.append(group)
    return batches


def _name(operation: Operation, subgraph: str, index: int) -> str:
    # named subgraph operations show up in subgraph logs and traces
    if not operation.name:
        return ""
    return f" {operation.name}__{re.sub(r'[^_0-9A-Za-z]', '_', subgraph)}__{index}"


def assemble(groups: Groups, operation: Operation) -> QueryPlan:
    batches = _batches(groups.ordered())
    fetch_of = {group.id: index for index, batch in enumerate(batches) for group in batch}
    counter = [0]
    taken = set(operation.variable_definitions)
    fetches: list[Fetch] = []
    for index, batch in enumerate(batches):
        first = batch[0]
        used: set[str] = set()
        for group in batch:
            resolve_conflicts([group.selset], counter)
            collect_variables(group.selset, used)
        usages = tuple(name for name in operation.variable_definitions if name in used)
        definitions = [print_ast(operation.variable_definitions[name]) for name in usages]
        depends_on = tuple(sorted({fetch_of[d.id] for group in batch for d in direct_deps(group)}))
        if first.kind == "root":
            document = f"{first.operation}{_name(operation, first.subgraph, index)}"
            if definitions:
                document += "(" + ", ".join(definitions) + ")"
            fetches.append(
                Fetch(
                    id=index,
                    subgraph=first.subgraph,
                    operation_kind=first.operation,
                    document=f"{document} {print_selset(first.selset)}",
                    variable_usages=usages,
                    depends_on=depends_on,
                    renames=rename_tree(first.selset),
                )
            )
            continue
        parts: list[EntityPart] = []
        selections: list[str] = []
        representation_definitions: list[str] = []
        for number, group in enumerate(batch):
            suffix = str(number) if len(batch) > 1 else ""
            variable = "representations" + suffix
            while variable in taken:
                variable = "_" + variable
            response_key = "_entities" + suffix
            representation_definitions.append(f"${variable}: [_Any!]!")
            representation_definitions.extend(f"${c.variable}: {c.type}" for c in group.contexts)
            alias = f"{response_key}: " if suffix else ""
            selections.append(f"{alias}_entities(representations: ${variable}) {print_selset(group.selset)}")
            parts.append(
                EntityPart(
                    merge_path=group.path,
                    inputs=tuple(
                        EntityInput(condition, builder.typename, builder.tree.freeze(), tuple(builder.key_fields))
                        for condition, builder in group.inputs.items()
                    ),
                    response_key=response_key,
                    variable=variable,
                    renames=rename_tree(group.selset),
                    contexts=tuple(group.contexts),
                )
            )
        head = "query" + _name(operation, first.subgraph, index)
        head += "(" + ", ".join(representation_definitions + definitions) + ")"
        fetches.append(
            Fetch(
                id=index,
                subgraph=first.subgraph,
                operation_kind="query",
                document=f"{head} {{ {' '.join(selections)} }}",
                variable_usages=usages,
                parts=tuple(parts),
                depends_on=depends_on,
            )
        )
    return QueryPlan(kind=operation.kind, fetches=tuple(fetches))
