"""One in-process subscriber's inbox of notifications: bounded, coalescing, never blocking the sender.

A notification's detail (the part of the payload after the key) says what changed, e.g. which
redemption. The same detail waiting twice is kept once: the subscriber re-reads the current state
anyway, so a burst of changes to one thing costs it one read. When more distinct details wait than
`max_pending`, they are all dropped for one `RESYNC`: the subscriber re-reads everything it shows
and so still ends on the latest state, while the sender (the process's one listener) never waits.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable

# Notifications may have been missed (the inbox overflowed, or the listening connection was lost
# and re-established): re-read the whole state.
RESYNC: str | None = None


class Subscription:
    def __init__(self, channel: str, key: str, *, max_pending: int, on_close: Callable[[Subscription], None]) -> None:
        if max_pending < 1:
            raise ValueError("max_pending must be at least 1")
        self.channel = channel
        self.key = key
        self.max_pending = max_pending
        self.dropped = 0  # details dropped by overflows, for tests and logs
        self._pending: OrderedDict[str | None, None] = OrderedDict()
        self._wake = asyncio.Event()
        self._on_close = on_close
        self._closed = False

    def offer(self, detail: str | None) -> None:
        """Called by the listener: never blocks, never raises."""
        if self._closed:
            return
        if detail in self._pending:
            self._pending.move_to_end(detail)
        elif RESYNC in self._pending:
            self.dropped += 1  # a re-read of everything is already due: it covers this change too
        elif len(self._pending) >= self.max_pending:
            self.dropped += len(self._pending)
            self._pending.clear()
            self._pending[RESYNC] = None
        else:
            self._pending[detail] = None
        self._wake.set()

    async def next(self) -> str | None:
        """The next change's detail (`""` when the channel carries none), or `RESYNC`."""
        while not self._pending:
            self._wake.clear()
            await self._wake.wait()
        detail, _ = self._pending.popitem(last=False)
        return detail

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> str | None:
        return await self.next()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._pending.clear()
            self._on_close(self)

    async def __aenter__(self) -> Subscription:
        return self

    async def __aexit__(self, *_: object) -> None:
        self.close()
