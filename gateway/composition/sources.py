"""Where subgraph SDLs come from: a running subgraph (`{ _service { sdl } }` over HTTP) or a file."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path

import httpx

from .compose import CompositionResult, SubgraphSource, compose

SERVICE_SDL_QUERY = "query SubgraphSdl { _service { sdl } }"


class SubgraphFetchError(RuntimeError):
    """A subgraph's SDL could not be obtained; the message says which subgraph and why."""


async def fetch_sdl(client: httpx.AsyncClient, name: str, url: str, headers: Mapping[str, str] | None = None) -> str:
    try:
        response = await client.post(url, json={"query": SERVICE_SDL_QUERY}, headers=dict(headers or {}))
    except httpx.HTTPError as exc:
        raise SubgraphFetchError(f'subgraph "{name}" at {url}: {type(exc).__name__}: {exc}') from exc
    if response.status_code != 200:
        raise SubgraphFetchError(f'subgraph "{name}" at {url}: HTTP {response.status_code}: {response.text[:200]}')
    try:
        body = response.json()
    except ValueError as exc:
        raise SubgraphFetchError(f'subgraph "{name}" at {url}: the response is not JSON') from exc
    if body.get("errors"):
        messages = "; ".join(str(e.get("message", e)) for e in body["errors"])
        raise SubgraphFetchError(f'subgraph "{name}" at {url}: {messages}')
    sdl = ((body.get("data") or {}).get("_service") or {}).get("sdl")
    if not isinstance(sdl, str):
        raise SubgraphFetchError(
            f'subgraph "{name}" at {url}: no `_service {{ sdl }}` in the response (is it a federation subgraph?)'
        )
    return sdl


async def fetch_sources(
    subgraphs: Mapping[str, str],
    *,
    headers: Mapping[str, str] | None = None,
    timeout: float = 10.0,
    client: httpx.AsyncClient | None = None,
) -> list[SubgraphSource]:
    """Fetch every subgraph's SDL concurrently; `subgraphs` maps names to URLs (also used as routing URLs)."""
    own = client is None
    client = client or httpx.AsyncClient(timeout=timeout)
    try:
        sdls = await asyncio.gather(*(fetch_sdl(client, name, url, headers) for name, url in subgraphs.items()))
    finally:
        if own:
            await client.aclose()
    return [SubgraphSource(name, url, sdl) for (name, url), sdl in zip(subgraphs.items(), sdls, strict=True)]


def read_sources(subgraphs: Mapping[str, tuple[str | Path, str]]) -> list[SubgraphSource]:
    """`subgraphs` maps names to (SDL file, routing URL)."""
    sources = []
    for name, (path, url) in subgraphs.items():
        try:
            sdl = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise SubgraphFetchError(f'subgraph "{name}": cannot read {path}: {exc.strerror}') from exc
        sources.append(SubgraphSource(name, url, sdl))
    return sources


def compose_from_files(subgraphs: Mapping[str, tuple[str | Path, str]]) -> CompositionResult:
    """Compose subgraphs whose SDLs are files: name -> (path, routing URL)."""
    return compose(read_sources(subgraphs))


async def compose_from_urls(
    subgraphs: Mapping[str, str],
    *,
    headers: Mapping[str, str] | None = None,
    timeout: float = 10.0,
    client: httpx.AsyncClient | None = None,
) -> CompositionResult:
    """Compose running subgraphs: name -> URL, each asked for `{ _service { sdl } }`."""
    return compose(await fetch_sources(subgraphs, headers=headers, timeout=timeout, client=client))
