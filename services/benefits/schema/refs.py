"""References to the entities (`Partner`, `Benefit`, `Member`) from the concepts' own types.

A write-off names its partner, a code its benefit; those fields resolve the entity through the
request's batched loaders. The entity classes live in `types.py`, which imports the concepts'
types to mix their fields in; so the concepts reach the entities through this small table that
`types.py` fills at import, rather than importing `types.py` back (no import cycle).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from shared.federation import Info

Resolve = Callable[[Info, uuid.UUID], Awaitable[Any]]
_resolvers: dict[str, Resolve] = {}


def register(entity: str, resolve: Resolve) -> None:
    _resolvers[entity] = resolve


async def partner(info: Info, partner_id: uuid.UUID) -> Any:
    return await _resolvers["Partner"](info, partner_id)


async def benefit(info: Info, benefit_id: uuid.UUID) -> Any:
    return await _resolvers["Benefit"](info, benefit_id)


async def member(info: Info, member_id: uuid.UUID | None) -> Any:
    return await _resolvers["Member"](info, member_id) if member_id is not None else None
