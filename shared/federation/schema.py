"""Building a subgraph schema with the limits and caches every subgraph shares."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import strawberry
from graphql import GraphQLError
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import MaxAliasesLimiter, QueryDepthLimiter
from strawberry.schema.config import StrawberryConfig
from strawberry.types.execution import ExecutionContext

from shared.federation.disclosure import services_only
from shared.federation.documents import DocumentCache
from shared.federation.errors import ErrorPolicy, log_internal_errors, tag_parse_errors
from shared.settings import get_settings

# The newest version that both Apollo's composer and The Guild's (which accepts up to 2.9) take.
FEDERATION_VERSION = "2.9"


class SubgraphSchema(strawberry.federation.Schema):
    hide_suggestions = False  # set by build_schema from the settings

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Client mistakes and domain errors are answers, not incidents: log only internal errors.
        log_internal_errors(errors)
        tag_parse_errors(errors)

    def _get_custom_context_kwargs(self, operation_extensions: Any = None, *, sync: bool = False) -> dict[str, Any]:
        # graphql-core's execute takes this: no "Did you mean ...?" in variable coercion errors
        # either (validation hides them in DocumentCache).
        kwargs = super()._get_custom_context_kwargs(operation_extensions, sync=sync)
        if self.hide_suggestions:
            kwargs["hide_suggestions"] = True
        return kwargs


def build_schema(
    *,
    query: type,
    mutation: type | None = None,
    subscription: type | None = None,
    types: Iterable[type] = (),
    extra_extensions: Iterable[Any] = (),
    config: StrawberryConfig | None = None,
) -> SubgraphSchema:
    """`config`: strawberry's schema configuration, e.g. `StrawberryConfig(scalar_map=...)` for
    custom scalars."""
    settings = get_settings()
    # The depth and alias limits are validation rules, and strawberry's limiters make a new rule
    # class each time one is constructed. Made per request, they made every request's rules differ,
    # so no validation cache (keyed by document and rules) could hit. Made once here, the rules
    # are the same classes for every request of this schema.
    limits = [
        *QueryDepthLimiter(max_depth=settings.max_query_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=settings.max_aliases).validation_rules,
        # a fixed graphql-core class, so the rules stay the same for every request too
        *(() if settings.introspection_enabled else (NoSchemaIntrospectionCustomRule,)),
    ]
    documents = DocumentCache(
        maxsize=1024,
        max_tokens=settings.max_query_tokens,
        rules=limits,
        hide_suggestions=not settings.suggestions_enabled,
        # with introspection off, `_service { sdl }` (the schema itself) only for services
        guard=None if settings.introspection_enabled else services_only,
    )
    schema = SubgraphSchema(
        query=query,
        mutation=mutation,
        subscription=subscription,
        types=list(types),
        federation_version=FEDERATION_VERSION,  # type: ignore[arg-type]
        config=config,
        # Classes, so each request gets fresh extension instances (their state is per request).
        extensions=[
            documents.extension(),
            ErrorPolicy,
            *extra_extensions,
        ],
    )
    schema.hide_suggestions = not settings.suggestions_enabled
    return schema
