"""Demo data through the launcher: every service's seed, once."""

from __future__ import annotations

import pytest

from abg.seed import describe_seeded, seed_all
from abg.services import service_names
from shared.settings import reset_settings_cache


@pytest.fixture
def development(monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201 - a fixture
    """The launcher seeds only in development (tests/abg/test_production.py: refused elsewhere)."""
    monkeypatch.setenv("ABG_ENV", "development")
    reset_settings_cache()
    yield
    monkeypatch.undo()
    reset_settings_cache()


async def test_every_service_seeds_an_empty_database_once(db: str, development: None) -> None:
    seeded = await seed_all(db)
    assert list(seeded) == service_names()  # in the registry's order: members, points, benefits, redemptions
    assert len(seeded["members"]) == 40 and len(seeded["points"]) == 4
    assert describe_seeded(seeded) == "members: 40, points: 4, benefits: 4, redemptions: 1"
    assert await seed_all(db) == {}
