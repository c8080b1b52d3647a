"""The per-request context every resolver sees: who is asking, and per-request DataLoaders.

Over a WebSocket the "request" is the connection (one context for all its subscriptions), and
`connection_params` is the payload of its `connection_init` message. Its DataLoaders are forgotten
after each result a subscription sends (by the error policy's stream hook), so the next event
reads afresh instead of answering from the first event's cache."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import strawberry
from starlette.requests import HTTPConnection
from strawberry.dataloader import DataLoader

from shared.auth.principals import Principal
from shared.database import Database

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


@dataclass
class Context:
    request: HTTPConnection | None
    principal: Principal
    db: Database
    request_id: str | None = None
    connection_params: dict[str, Any] | None = None
    _loaders: dict[str, DataLoader[Any, Any]] = field(default_factory=dict)

    def loader(self, name: str, load: Callable[[Sequence[K]], Awaitable[Sequence[V]]]) -> DataLoader[K, V]:
        """The request's one DataLoader under `name`: a batch of keys costs one call of `load`.

        `load` gets the keys and returns one value (or exception) per key, in order."""
        found = self._loaders.get(name)
        if found is None:
            found = self._loaders[name] = DataLoader(load_fn=lambda keys: load(keys))  # type: ignore[arg-type]
        return found  # type: ignore[return-value]

    def forget_loaders(self) -> None:
        self._loaders.clear()


Info = strawberry.Info[Context, None]
