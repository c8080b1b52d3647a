"""What a subgraph tells callers about its own schema.

With introspection off (the production default), `__schema`/`__type` are refused by a validation
rule, and the federation field `_service { sdl }` (the whole schema, directives included) answers
only to services: the gateway composes with a service token, nobody else needs it. `_entities`
stays open to every caller, because the gateway sends it with the client's own token and each
entity's reference resolver applies the owner's rules (a reference the caller may not see is null).
"""

from __future__ import annotations

from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)

from shared.errors import Forbidden

SERVICE_ONLY_FIELDS = frozenset({"_service"})


def root_fields(document: DocumentNode, operation_name: str | None) -> set[str]:
    """Names of the root fields the operation selects, through root-level fragments too."""
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    names: set[str] = set()
    seen: set[str] = set()

    def walk(selection_set: SelectionSetNode) -> None:
        for node in selection_set.selections:
            if isinstance(node, FieldNode):
                names.add(node.name.value)
            elif isinstance(node, InlineFragmentNode):
                walk(node.selection_set)
            elif isinstance(node, FragmentSpreadNode) and node.name.value not in seen:
                seen.add(node.name.value)
                fragment = fragments.get(node.name.value)
                if fragment is not None:
                    walk(fragment.selection_set)

    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode) and (
            operation_name is None or (definition.name and definition.name.value == operation_name)
        ):
            walk(definition.selection_set)
    return names


def services_only(context: Any) -> list[GraphQLError]:
    """The guard (see DocumentCache) refusing `_service` to anyone but a service; `context` is
    strawberry's execution context, its `context` ours."""
    principal = getattr(context.context, "principal", None)
    document = context.graphql_document
    # No request context: an in-process call (`abg sdl`), not a caller from the network.
    if principal is None or principal.is_service or document is None:
        return []
    asked = root_fields(document, context.operation_name) & SERVICE_ONLY_FIELDS
    if not asked:
        return []
    error = Forbidden(f"`{sorted(asked)[0]}` answers only to services")
    return [GraphQLError(error.message, original_error=error)]
