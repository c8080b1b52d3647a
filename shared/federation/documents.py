"""Parsed and validated documents, remembered per schema: one schema extension instead of four.

A member's app sends the same few query texts over and over. Parsing is remembered by the text
(bounded by `max_tokens`, so a huge document is refused while it is read). Validation is
remembered by the parsed document's identity (the parse cache hands back the very same object for
the same text) and the rules: strawberry's `ValidationCache` keyed an `lru_cache` by the document
itself, which graphql-core hashes and compares node by node, so every request walked its whole
tree twice to find an answer it already had. And strawberry calls every hook of every extension on
every request: folding the token limit, the parser cache, the extra rules and the validation cache
into one extension with two hooks saves most of that bookkeeping (about a tenth of a small read).
With `hide_suggestions`, errors carry no "Did you mean ...?" hints (they name fields and types a
caller did not ask for). A `guard` refuses, after validation, what a valid document may still not
ask for depending on who asks (it gets strawberry's execution context; never remembered).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from graphql import ASTValidationRule, DocumentNode, GraphQLError, parse, validate
from strawberry.extensions import SchemaExtension

Guard = Callable[[Any], list[GraphQLError]]


class DocumentCache:
    """One schema's remembered documents; the most recently used are kept (bounded)."""

    def __init__(
        self,
        *,
        maxsize: int,
        max_tokens: int,
        rules: Sequence[type[ASTValidationRule]],
        hide_suggestions: bool = False,
        guard: Guard | None = None,
    ) -> None:
        self.maxsize = maxsize
        self.max_tokens = max_tokens
        self.rules = tuple(rules)
        self.hide_suggestions = hide_suggestions
        self.guard = guard
        self._parsed: OrderedDict[str, DocumentNode] = OrderedDict()
        # (id(document), rules) -> (document, errors); the document is kept so its id cannot be reused.
        self._validated: OrderedDict[tuple[int, tuple[Any, ...]], tuple[DocumentNode, list[Any]]] = OrderedDict()

    def parse(self, query: str) -> DocumentNode:
        """The document of `query`; GraphQL's syntax errors (and too many tokens) raise, unremembered."""
        found = self._parsed.get(query)
        if found is not None:
            self._parsed.move_to_end(query)
            return found
        document = parse(query, max_tokens=self.max_tokens)
        self._remember(self._parsed, query, document)
        return document

    def errors(self, schema: Any, document: DocumentNode, rules: Sequence[type[ASTValidationRule]]) -> list[Any]:
        """Validation errors of `document` under strawberry's rules, `rules` and this schema's own."""
        # strawberry's own rules, imported late as strawberry does
        from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
        from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

        every_rule = (*rules, *self.rules)
        key = (id(document), every_rule)
        found = self._validated.get(key)
        if found is not None and found[0] is document:
            self._validated.move_to_end(key)
            return found[1]
        strawberry_rules = (MaybeNullValidationRule, OneOfInputValidationRule)
        errors = validate(schema, document, (*every_rule, *strawberry_rules), hide_suggestions=self.hide_suggestions)
        for error in errors:  # tagged here, once: later on they look like any pre-execution error
            if not (error.extensions or {}).get("code"):
                error.extensions = {**(error.extensions or {}), "code": "GRAPHQL_VALIDATION_FAILED"}
        self._remember(self._validated, key, (document, errors))
        return errors

    def _remember(self, entries: OrderedDict[Any, Any], key: Any, value: Any) -> None:
        entries[key] = value
        if len(entries) > self.maxsize:
            entries.popitem(last=False)

    def extension(self) -> type[SchemaExtension]:
        """The schema extension that parses and validates through this cache."""
        cache = self

        class Documents(SchemaExtension):
            def on_parse(self) -> Iterator[None]:
                context = self.execution_context
                if context.graphql_document is None and context.query is not None:
                    context.graphql_document = cache.parse(context.query)
                yield

            def on_validate(self) -> Iterator[None]:
                context = self.execution_context
                errors = cache.errors(context.schema._schema, context.graphql_document, context.validation_rules)
                if not errors and cache.guard is not None:
                    errors = cache.guard(context)
                context.pre_execution_errors = errors
                yield

        return Documents
