"""Running a query plan: each fetch starts as soon as the fetches it depends on are done.

Root fetches merge their data at the top of the response tree; entity fetches collect the
objects at their merge path, send one `_entities` request with the distinct representations,
and merge each answer back into every object it stands for. A failing fetch leaves its part
of the tree empty and adds an error; the others go on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..planning.plan import EntityPart, Fetch, QueryPlan
from ..supergraph.model import Supergraph
from .client import SubgraphClients, SubgraphError
from .merge import Merger, rename_path
from .contexts import group_by_context
from .representations import Representations, build_representations, path_list


@dataclass(slots=True)
class ExecutionContext:
    variables: Mapping[str, Any]  # as the client sent them
    headers: Mapping[str, str] = field(default_factory=dict)  # forwarded to every subgraph
    operation_name: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    errors: list[dict[str, Any]] = field(default_factory=list)
    subgraph_requests: int = 0
    mutation: bool = False  # root fetches then change data: never send one twice
    deadline: float | None = None  # time.monotonic() by which the client stops waiting


class Executor:
    def __init__(self, supergraph: Supergraph, clients: SubgraphClients) -> None:
        self.supergraph = supergraph
        self.clients = clients
        abstract = frozenset(name for name in supergraph.schema.type_map if supergraph.is_abstract(name))
        self.merger = Merger(abstract)
        self._matches_cache: dict[tuple[str | None, str], bool] = {}

    def matches(self, typename: str | None, condition: str) -> bool:
        """Does an object of this __typename fit an entity input's type condition?"""
        if typename is None:
            return False
        key = (typename, condition)
        found = self._matches_cache.get(key)
        if found is None:
            found = typename == condition or (
                self.supergraph.is_abstract(condition) and typename in self.supergraph.possible_types(condition)
            )
            self._matches_cache[key] = found
        return found

    async def execute(self, plan: QueryPlan, context: ExecutionContext) -> ExecutionContext:
        if not plan.fetches:
            return context
        context.mutation = plan.kind == "mutation"
        done: dict[int, asyncio.Event] = {fetch.id: asyncio.Event() for fetch in plan.fetches}

        async def run(fetch: Fetch) -> None:
            try:
                for dependency in fetch.depends_on:
                    await done[dependency].wait()
                await self.run_fetch(fetch, context)
            finally:
                done[fetch.id].set()

        if len(plan.fetches) == 1:
            await run(plan.fetches[0])
        else:
            await asyncio.gather(*(run(fetch) for fetch in plan.fetches))
        return context

    async def run_fetch(self, fetch: Fetch, context: ExecutionContext) -> None:
        try:
            if fetch.is_entity_fetch:
                await self.entity_fetch(fetch, context)
            else:
                await self.root_fetch(fetch, context)
        except SubgraphError as error:
            context.errors.append({"message": str(error), "extensions": error.extensions()})

    def variables_for(self, fetch: Fetch, context: ExecutionContext) -> dict[str, Any]:
        return {name: context.variables[name] for name in fetch.variable_usages if name in context.variables}

    async def root_fetch(self, fetch: Fetch, context: ExecutionContext) -> None:
        payload: dict[str, Any] = {"query": fetch.document}
        variables = self.variables_for(fetch, context)
        if variables:
            payload["variables"] = variables
        context.subgraph_requests += 1
        body = await self.clients.post(
            fetch.subgraph, payload, context.headers, repeatable=not context.mutation, deadline=context.deadline
        )
        data = body.get("data")
        if isinstance(data, dict):
            self.merger.merge(context.data, data, fetch.renames)
        for error in body.get("errors") or ():
            context.errors.append(self.subgraph_error(error, fetch, rename_path(error.get("path") or [], fetch.renames)))

    async def entity_fetch(self, fetch: Fetch, context: ExecutionContext) -> None:
        if fetch.parts[0].contexts:
            await self.contextual_entity_fetch(fetch, context)
            return
        parts = []
        variables = self.variables_for(fetch, context)
        for part in fetch.parts:
            reps = build_representations(context.data, part.merge_path, part.inputs, self.matches)
            if reps.values:
                parts.append((part, reps))
            # an empty list still has to be sent: the document names every part's variable
            variables[part.variable] = reps.values
        if not parts:
            return
        await self.send_entities(fetch, context, variables, parts)

    async def contextual_entity_fetch(self, fetch: Fetch, context: ExecutionContext) -> None:
        """One request per distinct set of @fromContext values (such a fetch has one part)."""
        part = fetch.parts[0]
        requests = []
        for values, objects in group_by_context(context.data, part.merge_path, part.contexts):
            reps = build_representations(context.data, part.merge_path, part.inputs, self.matches, objects)
            if reps.values:
                variables = {**self.variables_for(fetch, context), **values, part.variable: reps.values}
                requests.append(self.send_entities(fetch, context, variables, [(part, reps)]))
        for outcome in await asyncio.gather(*requests, return_exceptions=True):
            if isinstance(outcome, SubgraphError):
                context.errors.append({"message": str(outcome), "extensions": outcome.extensions()})
            elif isinstance(outcome, BaseException):
                raise outcome

    async def send_entities(
        self, fetch: Fetch, context: ExecutionContext, variables: dict[str, Any], parts: list[tuple[EntityPart, Representations]]
    ) -> None:
        context.subgraph_requests += 1
        body = await self.clients.post(
            fetch.subgraph, {"query": fetch.document, "variables": variables}, context.headers, deadline=context.deadline
        )
        data = body.get("data")
        by_key = {part.response_key: (part, reps) for part, reps in parts}
        for part, reps in parts:
            entities = data.get(part.response_key) if isinstance(data, dict) else None
            if not isinstance(entities, list):
                continue
            for index, entity in enumerate(entities[: len(reps.values)]):
                if isinstance(entity, dict):
                    for target, _ in reps.targets[index]:
                        self.merger.merge(target, entity, part.renames)
        for error in body.get("errors") or ():
            path = (error.get("path") or []) if isinstance(error, dict) else []
            found = by_key.get(path[0]) if path and isinstance(path[0], str) else None
            if found is None or len(path) < 2 or not isinstance(path[1], int) or path[1] >= len(found[1].targets):
                context.errors.append(self.subgraph_error(error, fetch, None))
                continue
            part, reps = found
            rest = rename_path(path[2:], part.renames)
            seen: set[tuple[Any, ...]] = set()
            for _, target_path in reps.targets[path[1]]:
                full = path_list(target_path) + rest
                if tuple(full) not in seen:
                    seen.add(tuple(full))
                    context.errors.append(self.subgraph_error(error, fetch, full))

    @staticmethod
    def subgraph_error(error: Any, fetch: Fetch, path: list[Any] | None) -> dict[str, Any]:
        if not isinstance(error, dict):
            return {"message": str(error), "extensions": {"code": "SUBGRAPH_ERROR", "serviceName": fetch.subgraph}}
        result: dict[str, Any] = {"message": str(error.get("message", "subgraph error"))}
        if path:
            result["path"] = path
        extensions = dict(error.get("extensions") or {})
        extensions.setdefault("code", "SUBGRAPH_ERROR")  # every error the gateway returns has one
        extensions.setdefault("serviceName", fetch.subgraph)
        result["extensions"] = extensions
        return result
