"""HTTP to subgraphs: one pooled, keep-alive httpx client per subgraph, each with its timeout."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson


class SubgraphError(Exception):
    """A subgraph could not be reached or did not answer with GraphQL."""

    def __init__(self, subgraph: str, message: str, code: str = "SUBGRAPH_ERROR") -> None:
        super().__init__(message)
        self.subgraph = subgraph
        self.code = code


@dataclass(slots=True)
class SubgraphSettings:
    timeout_seconds: float = 30.0
    max_connections: int = 100
    max_keepalive: int = 20
    # per-subgraph overrides: name -> timeout in seconds
    timeouts: dict[str, float] = field(default_factory=dict)
    # per-subgraph URL overrides (e.g. to point a composed supergraph at other hosts)
    urls: dict[str, str] = field(default_factory=dict)


_HEADERS = {"content-type": "application/json", "accept": "application/json"}


class SubgraphClients:
    def __init__(
        self,
        urls: Mapping[str, str],
        settings: SubgraphSettings | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = settings or SubgraphSettings()
        self.urls = {name: self.settings.urls.get(name, url) for name, url in urls.items()}
        self._transport = transport
        self._clients: dict[str, httpx.AsyncClient] = {}

    def client(self, subgraph: str) -> httpx.AsyncClient:
        found = self._clients.get(subgraph)
        if found is None:
            timeout = self.settings.timeouts.get(subgraph, self.settings.timeout_seconds)
            found = httpx.AsyncClient(
                timeout=httpx.Timeout(timeout),
                limits=httpx.Limits(
                    max_connections=self.settings.max_connections,
                    max_keepalive_connections=self.settings.max_keepalive,
                ),
                transport=self._transport,
                headers=_HEADERS,
            )
            self._clients[subgraph] = found
        return found

    async def post(
        self, subgraph: str, payload: dict[str, Any], headers: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        url = self.urls.get(subgraph)
        if url is None:
            raise SubgraphError(subgraph, f'unknown subgraph "{subgraph}"')
        try:
            response = await self.client(subgraph).post(url, content=orjson.dumps(payload), headers=headers)
        except httpx.TimeoutException as error:
            raise SubgraphError(subgraph, f'subgraph "{subgraph}" timed out', "SUBGRAPH_TIMEOUT") from error
        except httpx.HTTPError as error:
            raise SubgraphError(
                subgraph, f'subgraph "{subgraph}" could not be reached: {type(error).__name__}', "SUBGRAPH_UNREACHABLE"
            ) from error
        try:
            body = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            body = None
        if not isinstance(body, dict) or ("data" not in body and "errors" not in body):
            raise SubgraphError(
                subgraph,
                f'subgraph "{subgraph}" answered HTTP {response.status_code} without a GraphQL response',
                "SUBGRAPH_BAD_RESPONSE",
            )
        return body

    async def aclose(self) -> None:
        clients, self._clients = self._clients, {}
        for client in clients.values():
            await client.aclose()
