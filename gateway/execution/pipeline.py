"""One GraphQL request through the gateway: parse, check, validate, plan, execute, shape.

Transport-free: the HTTP layer (or a test, or the CLI) builds a `GraphQLRequest` and gets back
a response body and a status. Parsed documents, validation results and plans are cached.
Document checks (limits now; trusted documents later) plug in as callables. With tracing on,
each stage (parse, validate, plan, execute) is a span of the request's trace.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
import re
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLObjectType,
    OperationDefinitionNode,
    OperationType,
    parse,
    validate,
)
from graphql.execution.values import get_variable_values

from ..planning.authorization import ANONYMOUS_CALLER, Authorization, Caller, Grants, Policy, authorize, grants_for
from ..planning.operation import (
    FieldSelection,
    Operation,
    OperationError,
    Selection,
    condition_variables,
    find_operation,
    normalize,
)
from ..planning.plan import QueryPlan
from ..planning.planner import Planner, PlanningError
from ..supergraph.model import Supergraph
from .client import SubgraphClients, SubgraphSettings
from .defer import split_deferred, deferred_payloads
from .executor import ExecutionContext, Executor
from .introspection import INTROSPECTION_FIELDS, run_introspection
from .observer import NO_OBSERVER, Observer
from .response import ResponseShaper
from .subscriptions import SubscriptionPlan, SubscriptionRun
from .tracing import CACHE_HIT, EXECUTE, PARSE, PLAN, VALIDATE, describe_operation, describe_request, stage

log = logging.getLogger("gateway")

K = TypeVar("K")
V = TypeVar("V")

DocumentCheck = Callable[[DocumentNode, OperationDefinitionNode], list[GraphQLError]]
# Checks that need the variables' values: run on the operation as planned, before execution.
# (the supergraph the request runs on, the operation as the caller may run it, its variables)
OperationCheck = Callable[[Supergraph, Operation, Mapping[str, Any]], list[GraphQLError]]

_PERCENT = re.compile(r"^percent\((\d+(?:\.\d+)?)\)$")


class LRU(Generic[K, V]):
    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        found = self._items.get(key)
        if found is not None:
            self._items.move_to_end(key)
        return found

    def put(self, key: K, value: V) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return key in self._items  # a look that does not count as a use


@dataclass(slots=True)
class GraphQLRequest:
    query: str | None
    operation_name: str | None = None
    variables: dict[str, Any] | None = None
    extensions: dict[str, Any] | None = None
    method: str = "POST"
    forward_headers: Mapping[str, str] = field(default_factory=dict)
    request_id: str | None = None
    document_id: str | None = None  # a trusted document's id, resolved by the HTTP layer
    deadline: float | None = None  # time.monotonic() by which the client stops waiting
    caller: Caller | None = None  # as the HTTP layer verified it; None: anonymous
    incremental: bool = False  # the client takes several parts (multipart/mixed): @defer is honoured
    streaming: bool = False  # the client takes a stream of results (SSE, WebSocket): subscriptions run


@dataclass(slots=True)
class GraphQLResponse:
    body: dict[str, Any]
    status: int = 200
    subgraph_requests: int = 0
    # the request itself is unusable (no query, unknown operation), not just an invalid document
    malformed: bool = False
    operation_type: str | None = None  # query / mutation / subscription, once the operation is known
    # with @defer: the body is the initial part, and this gives the last one (the deferred data)
    subsequent: Callable[[], Awaitable[dict[str, Any]]] | None = None
    # a subscription: its payloads, one per event (the body is empty); close it to unsubscribe
    events: AsyncIterator[dict[str, Any]] | None = None


@dataclass(slots=True)
class PipelineOptions:
    introspection: bool = True
    suggestions: bool = True  # "Did you mean ...?" in validation and variable errors
    document_cache_size: int = 1000
    plan_cache_size: int = 1000
    override_labels: frozenset[str] = frozenset()  # progressive-override labels always on
    subgraphs: SubgraphSettings = field(default_factory=SubgraphSettings)
    checks: list[DocumentCheck] = field(default_factory=list)
    operation_checks: list[OperationCheck] = field(default_factory=list)
    max_tokens: int | None = 15000  # parsing stops past this many tokens (huge documents cost CPU)
    observer: Observer = NO_OBSERVER  # told about cache hits and subgraph requests (metrics)
    policies: dict[str, Policy] = field(default_factory=dict)  # @policy name -> its check


@dataclass(slots=True)
class _Document:
    document: DocumentNode | None
    errors: list[dict[str, Any]] | None  # parse errors, or validation errors once validated (None: not yet)
    condition_variables: tuple[str, ...] = ()


def _error(message: str, code: str, **extra: Any) -> dict[str, Any]:
    return {"message": message, "extensions": {"code": code, **extra}}


class Gateway:
    def __init__(
        self,
        supergraph: Supergraph,
        options: PipelineOptions | None = None,
        clients: SubgraphClients | None = None,
    ) -> None:
        self.supergraph = supergraph
        self.options = options or PipelineOptions()
        self.clients = clients or SubgraphClients(
            {name: sub.url for name, sub in supergraph.subgraphs.items()}, self.options.subgraphs, self.options.observer
        )
        self.planner = Planner(supergraph)
        self.executor = Executor(supergraph, self.clients)
        self.shaper = ResponseShaper(supergraph.api_schema)
        self.documents: LRU[str, _Document] = LRU(self.options.document_cache_size)
        self.plans: LRU[tuple, tuple[QueryPlan, Authorization] | PlanningError] = LRU(self.options.plan_cache_size)

    async def aclose(self) -> None:
        await self.clients.aclose()

    def observe(self, observer: Observer) -> None:
        """Report cache lookups and subgraph requests to `observer` from now on."""
        self.options.observer = observer
        self.clients.observer = observer

    # ---- stages ------------------------------------------------------------------------------

    def document(self, query: str) -> _Document:
        """The parsed and validated document (both remembered)."""
        parsed = self.parsed(query)
        self.validation_errors(parsed)
        return parsed

    def parsed(self, query: str) -> _Document:
        """The parsed document, remembered by its text; validated later (`validation_errors`), once.

        Parsing and validation are separate steps so that each has its own span."""
        found = self.documents.get(query)
        self.options.observer.document_cache(found is not None)
        if found is not None:
            return found
        try:
            document = parse(query, max_tokens=self.options.max_tokens)
        except GraphQLError as error:
            result = _Document(None, [_with_code(error.formatted, "GRAPHQL_PARSE_FAILED")])
        else:
            result = _Document(document, None, condition_variables(document))
        self.documents.put(query, result)
        return result

    def validation_errors(self, parsed: _Document) -> list[dict[str, Any]]:
        if parsed.errors is None:
            assert parsed.document is not None
            errors = validate(self.supergraph.api_schema, parsed.document, hide_suggestions=not self.options.suggestions)
            parsed.errors = [_with_code(e.formatted, "GRAPHQL_VALIDATION_FAILED") for e in errors]
        return parsed.errors

    def active_labels(self) -> frozenset[str]:
        labels = set(self.options.override_labels & self.supergraph.override_labels)
        for label in self.supergraph.override_labels - labels:
            match = _PERCENT.match(label)
            if match and random.random() * 100 < float(match.group(1)):
                labels.add(label)
        return frozenset(labels)

    def plan_for(
        self,
        query: str,
        document: DocumentNode,
        operation_name: str | None,
        coerced: Mapping[str, Any],
        conditions: tuple[str, ...],
        labels: frozenset[str],
        grants: Grants | None = None,
        span: Any = None,
    ) -> tuple[QueryPlan, Authorization]:
        """The plan and the normalized operation as the caller may run it, cached per document,
        operation, @skip/@include booleans, override labels in effect and the caller's grants.
        `span` (tracing on) is told whether the cache had it."""
        key = (query, operation_name, tuple(bool(coerced.get(name)) for name in conditions), labels, grants)
        found = self.plans.get(key)
        self.options.observer.plan_cache(found is not None)
        if span is not None:
            span.set_attribute(CACHE_HIT, found is not None)
        if found is None:
            authorization = authorize(self.supergraph, normalize(document, operation_name, coerced), grants)
            try:
                found = (self.planner.plan(authorization.operation, labels), authorization)
            except PlanningError as error:
                found = error
            self.plans.put(key, found)
        if isinstance(found, PlanningError):
            raise found
        return found

    def grants(self, caller: Caller | None) -> Grants | None:
        """What of the caller decides access; None when the supergraph has no access rules."""
        if not self.supergraph.access:
            return None
        return grants_for(caller or ANONYMOUS_CALLER, self.supergraph.access, self.options.policies)

    def plan(
        self,
        query: str,
        operation_name: str | None = None,
        variables: dict[str, Any] | None = None,
        caller: Caller | None = None,
    ) -> QueryPlan:
        """The plan a query would run with (for the CLI and tests): for `caller` when one is given,
        else for the whole operation, as if every access directive let it through."""
        parsed = self.document(query)
        if parsed.document is None or parsed.errors:
            raise PlanningError("; ".join(e["message"] for e in parsed.errors or ()))
        operation = find_operation(parsed.document, operation_name)
        coerced = get_variable_values(self.supergraph.api_schema, operation.variable_definitions or (), variables or {})
        values = {} if isinstance(coerced, list) else coerced.coerced
        plan, _ = self.plan_for(
            query, parsed.document, operation_name, values, parsed.condition_variables, self.active_labels(),
            None if caller is None else self.grants(caller),
        )
        return plan

    # ---- the request -------------------------------------------------------------------------

    async def execute(self, request: GraphQLRequest) -> GraphQLResponse:
        try:
            return await self._execute(request)
        except Exception:
            log.exception("internal error (request id %s)", request.request_id)
            extra = {"requestId": request.request_id} if request.request_id else {}
            return GraphQLResponse({"errors": [_error("Internal server error", "INTERNAL_SERVER_ERROR", **extra)]}, 500)

    async def _execute(self, request: GraphQLRequest) -> GraphQLResponse:
        if not request.query or not isinstance(request.query, str):
            return GraphQLResponse({"errors": [_error("Must provide query string.", "BAD_REQUEST")]}, 400, malformed=True)
        with stage(PARSE) as span:
            if span is not None:
                span.set_attribute(CACHE_HIT, request.query in self.documents)
            parsed = self.parsed(request.query)
        if parsed.document is None:
            return GraphQLResponse({"errors": parsed.errors}, 400)
        document = parsed.document
        try:
            operation = find_operation(document, request.operation_name)
        except OperationError as error:
            return GraphQLResponse({"errors": [_error(str(error), "BAD_REQUEST")]}, 400, malformed=True)
        describe_request(operation)
        result = await self._execute_operation(request, parsed, operation)
        result.operation_type = operation.operation.value
        return result

    def _validate(
        self, request: GraphQLRequest, parsed: _Document, operation: OperationDefinitionNode
    ) -> GraphQLResponse | dict[str, Any]:
        """The coerced variables, or the response refusing the request: the document checks
        (limits), validation against the schema (remembered), GET for queries only, variables."""
        document = parsed.document
        assert document is not None
        for check in self.options.checks:
            problems = check(document, operation)
            if problems:
                return GraphQLResponse({"errors": [p.formatted for p in problems]}, 400)
        errors = self.validation_errors(parsed)
        if errors:
            return GraphQLResponse({"errors": errors}, 400)
        if operation.operation == OperationType.SUBSCRIPTION and not request.streaming:
            message = "Subscriptions need a stream: send them with Accept: text/event-stream or over a WebSocket."
            return GraphQLResponse({"errors": [_error(message, "SUBSCRIPTION_TRANSPORT_REQUIRED")]}, 400, malformed=True)
        if request.method == "GET" and operation.operation == OperationType.MUTATION:
            return GraphQLResponse(
                {"errors": [_error("Only queries can be sent with GET; use POST.", "METHOD_NOT_ALLOWED")]}, 405
            )
        coerced = get_variable_values(
            self.supergraph.api_schema,
            operation.variable_definitions or (),
            request.variables or {},
            hide_suggestions=not self.options.suggestions,
        )
        if isinstance(coerced, list):  # graphql-core returns the errors instead of values
            return GraphQLResponse({"errors": [_with_code(e.formatted, "BAD_USER_INPUT") for e in coerced]}, 200)
        return coerced.coerced

    async def _execute_operation(
        self, request: GraphQLRequest, parsed: _Document, operation: OperationDefinitionNode
    ) -> GraphQLResponse:
        document = parsed.document
        assert document is not None and request.query is not None
        with stage(VALIDATE) as span:
            if span is not None:
                span.set_attribute(CACHE_HIT, parsed.errors is not None)
            values = self._validate(request, parsed, operation)
        if isinstance(values, GraphQLResponse):
            return values
        raw_variables = request.variables or {}
        if "@defer" in request.query:  # cheap test first: deferring is rare
            deferred = await self._execute_deferred(request, document, operation, values)
            if deferred is not None:
                return deferred

        with stage(PLAN) as span:
            try:
                plan, authorization = self.plan_for(
                    request.query, document, request.operation_name, values, parsed.condition_variables,
                    self.active_labels(), self.grants(request.caller), span,
                )
            except PlanningError as error:
                return GraphQLResponse({"errors": [_error(str(error), "QUERY_PLANNING_FAILED")], "data": None}, 200)
        for operation_check in self.options.operation_checks:
            problems = operation_check(self.supergraph, authorization.operation, values)
            if problems:
                return GraphQLResponse({"errors": [p.formatted for p in problems]}, 400)
        normalized = authorization.shaped
        wants_introspection = _asks_introspection(normalized.selections)
        if wants_introspection and not self.options.introspection:
            return GraphQLResponse(
                {"errors": [_error("GraphQL introspection is not allowed.", "INTROSPECTION_DISABLED")]}, 200
            )

        if normalized.kind == "subscription":
            return GraphQLResponse({}, 200, events=self._subscription(request, plan, authorization).events())

        context = ExecutionContext(
            variables=raw_variables,
            headers=request.forward_headers,
            operation_name=request.operation_name,
            deadline=request.deadline,
            errors=authorization.error_list(),  # fields refused to the caller come first
        )
        with stage(EXECUTE) as span:
            if span is not None:
                describe_operation(span, normalized.kind, request.operation_name)
            await self.executor.execute(plan, context)
            introspection: dict[str, Any] = {}
            if wants_introspection:
                introspection, errors = run_introspection(self.supergraph.api_schema, document, operation, values)
                context.errors.extend(errors)
            root = self._root_type(normalized.kind)
            data = self.shaper.shape(
                root, normalized.selections, context.data, context.errors, introspection, normalized.shape_cache,
                authorization.denied,
            )
        body: dict[str, Any] = {}
        if context.errors:
            body["errors"] = context.errors
        body["data"] = data
        return GraphQLResponse(body, 200, context.subgraph_requests)

    async def _execute_deferred(
        self,
        request: GraphQLRequest,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        values: Mapping[str, Any],
    ) -> GraphQLResponse | None:
        """A query with @defer answered in parts (gateway/execution/defer.py); otherwise the
        same document without @defer, in one part. None: nothing in it is deferred after all."""
        split = split_deferred(document, operation, values)
        if split is None:
            return None
        if not split.deferred or not request.incremental or operation.operation != OperationType.QUERY:
            return await self._execute(dataclasses.replace(request, query=split.complete_without_defer))
        complete_run = asyncio.ensure_future(self.execute(dataclasses.replace(request, query=split.complete)))
        try:
            initial = await self._execute(dataclasses.replace(request, query=split.initial))
        except BaseException:
            complete_run.cancel()
            raise
        if initial.body.get("data") is None:  # nothing for deferred data to join
            complete_run.cancel()
            return initial
        initial.body["hasNext"] = True
        schema = self.supergraph.api_schema

        async def subsequent() -> dict[str, Any]:
            complete = await complete_run
            items = deferred_payloads(split, schema, initial.body, complete.body)
            return {"hasNext": False, "incremental": items} if items else {"hasNext": False}

        initial.subsequent = subsequent
        return initial

    def _subscription(self, request: GraphQLRequest, plan: QueryPlan, authorization: Authorization) -> SubscriptionRun:
        split = SubscriptionPlan.of(plan)
        name = split.root.subgraph
        settings = self.options.subgraphs
        return SubscriptionRun(
            plan=split,
            authorization=authorization,
            root_type=self._root_type("subscription"),
            executor=self.executor,
            shaper=self.shaper,
            url=self.clients.urls[name],
            variables=request.variables or {},
            headers=request.forward_headers,
            operation_name=request.operation_name,
            open_timeout=settings.timeouts.get(name, settings.timeout_seconds),
            ssl_context=self.clients.ssl_context,
        )

    def _root_type(self, kind: str) -> GraphQLObjectType:
        schema = self.supergraph.api_schema
        roots = {"query": schema.query_type, "mutation": schema.mutation_type, "subscription": schema.subscription_type}
        root = roots.get(kind)
        if root is None:
            raise PlanningError(f"The schema has no {kind} type.")
        return root


def _with_code(formatted: dict[str, Any], code: str) -> dict[str, Any]:
    extensions = dict(formatted.get("extensions") or {})
    extensions.setdefault("code", code)
    return {**formatted, "extensions": extensions}


def _asks_introspection(selections: tuple[Selection, ...]) -> bool:
    for sel in selections:
        if isinstance(sel, FieldSelection):
            if sel.name in INTROSPECTION_FIELDS:
                return True
        elif _asks_introspection(sel.selections):
            return True
    return False
