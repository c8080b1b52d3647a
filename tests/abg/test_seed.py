"""Demo data through the launcher: every service's seed, once."""

from __future__ import annotations

from abg.seed import describe_seeded, seed_all
from abg.services import service_names


async def test_every_service_seeds_an_empty_database_once(db: str) -> None:
    seeded = await seed_all(db)
    assert list(seeded) == service_names()  # in the registry's order: members, points, benefits, redemptions
    assert len(seeded["members"]) == 40 and len(seeded["points"]) == 4
    assert describe_seeded(seeded) == "members: 40, points: 4, benefits: 4, redemptions: 1"
    assert await seed_all(db) == {}
