"""HTTP to subgraphs: one pooled keep-alive connection pool per subgraph, each with its timeout."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from .http1 import Http1Pool, HttpError, ResponseTooLarge
from .observer import NO_OBSERVER, Observer


class SubgraphError(Exception):
    """A subgraph could not be reached or did not answer with GraphQL."""

    def __init__(self, subgraph: str, message: str, code: str = "SUBGRAPH_ERROR") -> None:
        super().__init__(message)
        self.subgraph = subgraph
        self.code = code


@dataclass(slots=True)
class SubgraphSettings:
    timeout_seconds: float = 30.0
    max_connections: int = 100  # per subgraph; further requests wait for a free connection
    max_response_bytes: int = 64 * 1024 * 1024
    # per-subgraph overrides: name -> timeout in seconds
    timeouts: dict[str, float] = field(default_factory=dict)
    # per-subgraph URL overrides (e.g. to point a composed supergraph at other hosts)
    urls: dict[str, str] = field(default_factory=dict)


_HEADERS = {"content-type": "application/json", "accept": "application/json"}


class SubgraphClients:
    def __init__(
        self, urls: Mapping[str, str], settings: SubgraphSettings | None = None, observer: Observer = NO_OBSERVER
    ) -> None:
        self.settings = settings or SubgraphSettings()
        self.observer = observer
        self.urls = {name: self.settings.urls.get(name, url) for name, url in urls.items()}
        self._pools: dict[str, Http1Pool] = {}

    def pool(self, subgraph: str) -> Http1Pool:
        found = self._pools.get(subgraph)
        if found is None:
            url = self.urls.get(subgraph)
            if url is None:
                raise SubgraphError(subgraph, f'unknown subgraph "{subgraph}"')
            try:
                found = Http1Pool(
                    url,
                    max_connections=self.settings.max_connections,
                    timeout_seconds=self.settings.timeouts.get(subgraph, self.settings.timeout_seconds),
                    max_response_bytes=self.settings.max_response_bytes,
                    headers=_HEADERS,
                )
            except ValueError as error:
                raise SubgraphError(subgraph, f'subgraph "{subgraph}" has an unusable URL: {error}') from error
            self._pools[subgraph] = found
        return found

    async def post(
        self,
        subgraph: str,
        payload: dict[str, Any],
        headers: Mapping[str, str] | None = None,
        *,
        repeatable: bool = True,
    ) -> dict[str, Any]:
        """Send one GraphQL request; `repeatable` is false for mutations (never sent twice)."""
        started = time.perf_counter()
        try:
            body = await self._post(subgraph, payload, headers, repeatable)
        except SubgraphError as error:
            self.observer.subgraph_request(
                subgraph, time.perf_counter() - started, error.code.lower().removeprefix("subgraph_")
            )
            raise
        outcome = "graphql_errors" if body.get("errors") else "ok"
        self.observer.subgraph_request(subgraph, time.perf_counter() - started, outcome)
        return body

    async def _post(
        self, subgraph: str, payload: dict[str, Any], headers: Mapping[str, str] | None, repeatable: bool
    ) -> dict[str, Any]:
        pool = self.pool(subgraph)
        try:
            response = await pool.post(orjson.dumps(payload), headers, repeatable=repeatable)
        except TimeoutError as error:
            raise SubgraphError(subgraph, f'subgraph "{subgraph}" timed out', "SUBGRAPH_TIMEOUT") from error
        except ResponseTooLarge as error:
            raise SubgraphError(subgraph, f'subgraph "{subgraph}": {error}', "SUBGRAPH_BAD_RESPONSE") from error
        except (HttpError, OSError) as error:
            raise SubgraphError(
                subgraph, f'subgraph "{subgraph}" could not be reached: {type(error).__name__}', "SUBGRAPH_UNREACHABLE"
            ) from error
        try:
            body = orjson.loads(response.body)
        except orjson.JSONDecodeError:
            body = None
        if not isinstance(body, dict) or ("data" not in body and "errors" not in body):
            raise SubgraphError(
                subgraph,
                f'subgraph "{subgraph}" answered HTTP {response.status} without a GraphQL response',
                "SUBGRAPH_BAD_RESPONSE",
            )
        return body

    async def aclose(self) -> None:
        pools, self._pools = self._pools, {}
        await asyncio.gather(*(pool.aclose() for pool in pools.values()))
