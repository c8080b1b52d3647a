"""A subscription through the gateway: the subgraph's event stream, completed per event.

The plan of a subscription is the plan of a one-field operation whose root fetch is the
subscription to the subgraph owning the root field (`planning/planner.py`). That fetch is opened
once, over graphql-transport-ws (`subgraph_ws.py`); every event it yields stands for the root
fetch's answer: it is merged like one, the plan's other fetches (entities from other subgraphs)
run on it with the usual executor, and the shaper cuts the client's answer out of it. A failing
entity fetch gives that event errors, not the end of the stream. The subgraph completing ends
the stream; the connection failing ends it after one last payload with the typed error.
"""

from __future__ import annotations

import dataclasses
import ssl
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLObjectType

from ..planning.authorization import Authorization
from ..planning.plan import Fetch, QueryPlan
from .client import SubgraphError
from .executor import ExecutionContext, Executor
from .merge import rename_path
from .response import ResponseShaper
from .subgraph_ws import SubgraphSubscription


@dataclass(frozen=True, slots=True)
class SubscriptionPlan:
    """The subscription fetch, and the fetches to run on each event (no longer waiting for it)."""

    root: Fetch
    per_event: QueryPlan

    @classmethod
    def of(cls, plan: QueryPlan) -> SubscriptionPlan:
        root, *rest = plan.fetches
        after = tuple(dataclasses.replace(f, depends_on=tuple(d for d in f.depends_on if d != root.id)) for f in rest)
        return cls(root, QueryPlan("query", after))


@dataclass(slots=True)
class SubscriptionRun:
    plan: SubscriptionPlan
    authorization: Authorization
    root_type: GraphQLObjectType
    executor: Executor
    shaper: ResponseShaper
    url: str
    variables: Mapping[str, Any]  # as the client sent them
    headers: Mapping[str, str]  # forwarded to every subgraph, the subscription's one included
    operation_name: str | None = None
    open_timeout: float = 10.0
    ssl_context: ssl.SSLContext | None = None

    def upstream(self) -> SubgraphSubscription:
        root = self.plan.root
        payload: dict[str, Any] = {"query": root.document}
        variables = {name: self.variables[name] for name in root.variable_usages if name in self.variables}
        if variables:
            payload["variables"] = variables
        return SubgraphSubscription(
            root.subgraph, self.url, payload, self.headers, open_timeout=self.open_timeout,
            ssl_context=self.ssl_context,
        )

    async def events(self) -> AsyncIterator[dict[str, Any]]:
        """The client's payloads (`{"data", "errors"?}`), one per subgraph event."""
        try:
            async for event in self.upstream().events():
                yield await self.complete(event)
        except SubgraphError as error:
            yield {"errors": [{"message": str(error), "extensions": error.extensions()}], "data": None}

    async def complete(self, event: dict[str, Any]) -> dict[str, Any]:
        root = self.plan.root
        context = ExecutionContext(
            variables=self.variables,
            headers=self.headers,
            operation_name=self.operation_name,
            errors=self.authorization.error_list(),  # fields refused to the caller come first
        )
        data = event.get("data")
        if isinstance(data, dict):
            self.executor.merger.merge(context.data, data, root.renames)
        for error in event.get("errors") or ():
            path = rename_path(error.get("path") or [], root.renames) if isinstance(error, dict) else None
            context.errors.append(self.executor.subgraph_error(error, root, path))
        if isinstance(data, dict):  # nothing for entity fetches to join when the event has no data
            await self.executor.execute(self.plan.per_event, context)
        normalized = self.authorization.shaped
        shaped = self.shaper.shape(
            self.root_type, normalized.selections, context.data, context.errors, {}, normalized.shape_cache,
            self.authorization.denied,
        )
        body: dict[str, Any] = {}
        if context.errors:
            body["errors"] = context.errors
        body["data"] = shaped
        return body
