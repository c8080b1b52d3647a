"""A gateway whose supergraph can be swapped while it serves.

Each request runs to the end on the `Gateway` it started on; a reload builds a whole new one
(planner, executor, caches, subgraph connection pools) next to it and switches with a single
assignment, so no request ever sees half of each. The old gateway's connection pools are closed
once its last request has finished. A supergraph that cannot be loaded is refused and logged;
the current one keeps serving.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from ..execution.observer import Observer
from ..execution.pipeline import Gateway, GraphQLRequest, GraphQLResponse, PipelineOptions
from ..supergraph import SupergraphError, load_supergraph_file
from ..supergraph.model import Supergraph

log = logging.getLogger("gateway.reload")


class ReloadableGateway:
    """Stands in for a `Gateway` in the HTTP layer (`execute`, `options`, `observe`, `aclose`)."""

    def __init__(self, gateway: Gateway, path: str | Path | None = None) -> None:
        self.current = gateway
        self.path = Path(path) if path is not None else None
        self.generation = 1
        self._in_flight: dict[Gateway, int] = {gateway: 0}
        self._retired: set[Gateway] = set()
        self._closing: set[asyncio.Task[None]] = set()  # held so the loop does not drop them
        self._lock = asyncio.Lock()  # one reload at a time: two SIGHUPs in a row load twice, in order

    # ---- what the HTTP layer uses of a Gateway -------------------------------------------------

    @property
    def options(self) -> PipelineOptions:
        return self.current.options  # shared by every generation: checks, observer, limits

    @property
    def supergraph(self) -> Supergraph:
        return self.current.supergraph

    def observe(self, observer: Observer) -> None:
        self.current.observe(observer)

    async def execute(self, request: GraphQLRequest) -> GraphQLResponse:
        gateway = self.current  # taken once: the request finishes on this one, whatever happens next
        self._in_flight[gateway] += 1
        try:
            result = await gateway.execute(request)
        except BaseException:
            self._done(gateway)
            raise
        if result.events is None:
            self._done(gateway)
        else:  # a subscription runs its entity fetches on this gateway until it ends
            result.events = _HeldEvents(result.events, lambda: self._done(gateway))
        return result

    def _done(self, gateway: Gateway) -> None:
        if gateway not in self._in_flight:  # closed already: the server is shutting down
            return
        self._in_flight[gateway] -= 1
        if self._in_flight[gateway] == 0 and gateway in self._retired:
            self._close_soon(gateway)  # in a task of its own, not in this request's time

    async def aclose(self) -> None:
        for gateway in [*self._retired, self.current]:
            await self._close(gateway)

    # ---- reloading -----------------------------------------------------------------------------

    async def reload(self, path: str | Path | None = None) -> bool:
        """Loads the supergraph at `path` (default: the one served) and switches to it; False
        (and a log line) when it cannot be loaded, and the current one stays."""
        source = Path(path) if path is not None else self.path
        if source is None:
            raise ValueError("no supergraph file to reload from")
        async with self._lock:
            try:
                # parsing and building the schemas is CPU work: a thread keeps the loop answering
                supergraph = await asyncio.to_thread(load_supergraph_file, str(source))
                replacement = Gateway(supergraph, self.current.options)
            except (OSError, SupergraphError) as error:
                log.error("supergraph reload refused, still serving generation %d: %s: %s",
                          self.generation, source, error)
                return False
            except Exception:  # a bug in loading must not take the worker down with it
                log.exception("supergraph reload refused, still serving generation %d: %s", self.generation, source)
                return False
            self.switch(replacement)
            log.info("supergraph reloaded from %s: generation %d, %d subgraphs",
                     source, self.generation, len(supergraph.subgraphs))
            return True

    def switch(self, replacement: Gateway) -> None:
        old = self.current
        self._in_flight[replacement] = 0
        self.current = replacement  # the switch: requests from now on run on the replacement
        self.generation += 1
        self._retired.add(old)
        if self._in_flight[old] == 0:
            self._close_soon(old)

    def _close_soon(self, gateway: Gateway) -> None:
        self._retired.discard(gateway)  # closed once, whoever gets here first
        task = asyncio.get_running_loop().create_task(self._close(gateway))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def _close(self, gateway: Gateway) -> None:
        self._retired.discard(gateway)
        self._in_flight.pop(gateway, None)
        await gateway.aclose()


class _HeldEvents:
    """A subscription's events that call `release` once, when they end or are closed (even
    unstarted: an async generator closed before its first step would skip its `finally`)."""

    def __init__(self, events: AsyncIterator[dict[str, Any]], release: Callable[[], None]) -> None:
        self.events = events
        self._release: Callable[[], None] | None = release

    def __aiter__(self) -> _HeldEvents:
        return self

    async def __anext__(self) -> dict[str, Any]:
        try:
            return await anext(self.events)
        except StopAsyncIteration:
            self.release()
            raise

    async def aclose(self) -> None:
        try:
            await self.events.aclose()  # type: ignore[attr-defined]
        finally:
            self.release()

    def release(self) -> None:
        release, self._release = self._release, None
        if release is not None:
            release()
