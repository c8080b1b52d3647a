"""Validation results remembered per parsed document, found by the document's identity.

strawberry's `ValidationCache` keys an `lru_cache` by (schema, document, rules); a graphql-core
document hashes and compares itself node by node, so every request paid for walking its whole
tree twice to find the answer it had already (about a tenth of a small read's CPU). The parser
cache hands back the very same document object for the same query text, so the identity of that
object is the key, with the rules (a tuple of classes, cheap to hash) in case they vary by
request; each schema has a cache of its own (the parser cache is shared between schemas).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

from graphql import DocumentNode
from strawberry.extensions import SchemaExtension


class ValidatedDocuments:
    """One schema's remembered validations, the most recently used kept (bounded)."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        # (id(document), rules) -> (document, errors); the document is kept so its id cannot be reused.
        self._entries: OrderedDict[tuple[int, tuple[Any, ...]], tuple[DocumentNode, list[Any]]] = OrderedDict()

    def errors(self, schema: Any, document: DocumentNode, rules: Any) -> list[Any]:
        from strawberry.schema.schema import validate_document  # strawberry's rules added; imported late as strawberry does

        rules = tuple(rules)
        key = (id(document), rules)
        found = self._entries.get(key)
        if found is not None and found[0] is document:
            self._entries.move_to_end(key)
            return found[1]
        errors = validate_document(schema, document, rules)
        self._entries[key] = (document, errors)
        if len(self._entries) > self.maxsize:
            self._entries.popitem(last=False)
        return errors

    def extension(self) -> type[SchemaExtension]:
        """The schema extension that validates through this cache."""
        cache = self

        class ValidateOnce(SchemaExtension):
            def on_validate(self) -> Iterator[None]:
                context = self.execution_context
                context.pre_execution_errors = cache.errors(context.schema._schema, context.graphql_document, context.validation_rules)
                yield

        return ValidateOnce
