"""Demo data: each service's seed on an empty database, then demo activity once the services are up."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from abg.services import SERVICES, Service
from shared.database import dispose_databases, get_database
from shared.demo import ensure_demo_allowed


async def seed_all(url: str, services: Sequence[Service] = SERVICES) -> dict[str, list[Any]]:
    """Runs each service's demo seed (a no-op on a database that already has data); returns the
    ids each service created, by service. Only in development (`DemoDataRefused` elsewhere)."""
    ensure_demo_allowed(("development",))
    done: dict[str, list[Any]] = {}
    for service in services:
        seed_module = service.seed_module()
        if seed_module is None:
            continue
        created = await seed_module.seed_demo(get_database(url))
        if created:
            done[service.name] = list(created)
    return done


async def seed_and_close(url: str, services: Sequence[Service] = SERVICES) -> dict[str, list[Any]]:
    """`seed_all`, then the engines it opened are disposed (the caller's event loop ends next)."""
    try:
        return await seed_all(url, services)
    finally:
        await dispose_databases()


def describe_seeded(seeded: dict[str, list[Any]]) -> str:
    return ", ".join(f"{name}: {len(ids)}" for name, ids in seeded.items())


async def seed_live_all(seeded: dict[str, list[Any]], services: Sequence[Service] = SERVICES) -> list[str]:
    """Once every service is up: each service's `seed_live(seeded)`, demo activity that goes
    through the services' own APIs (purchases of the members just seeded, say)."""
    from shared.http import aclose_http_client

    notes = []
    try:
        for service in services:
            live = getattr(service.seed_module(), "seed_live", None)
            if live is not None and (note := await live(seeded)):
                notes.append(note)
    finally:
        await aclose_http_client()
    return notes
