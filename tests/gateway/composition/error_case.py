"""The shape of a subgraph set that must not compose, with the error a user should get."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ErrorCase:
    id: str
    subgraphs: dict[str, str]
    code: str
    subgraphs_named: tuple[str, ...]
    coordinates: tuple[str, ...]
    message_parts: tuple[str, ...] = ()
    # Apollo's composer reports exactly these codes too (False when it has no equivalent or crashes).
    apollo_agrees: bool = True
    extra: dict = field(default_factory=dict)
