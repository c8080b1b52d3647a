"""What the pipeline reports as it works (plan cache, subgraph requests), for metrics or tests.

The pipeline calls these synchronously on its hot path, so an observer must be cheap; the
default one does nothing.
"""

from __future__ import annotations


class Observer:
    def document_cache(self, hit: bool) -> None:
        """A parsed and validated document was found in (or added to) the cache."""

    def plan_cache(self, hit: bool) -> None:
        """A query plan was found in (or added to) the cache."""

    def subgraph_request(self, subgraph: str, seconds: float, outcome: str) -> None:
        """One request to a subgraph finished.

        outcome: "ok", "graphql_errors" (answered with errors), "timeout", "unreachable",
        "bad_response" (not a GraphQL answer) or "error".
        """

    def subgraph_deduplicated(self, subgraph: str) -> None:
        """A query was not sent: an identical one to this subgraph was in flight and its answer is shared."""


NO_OBSERVER = Observer()
