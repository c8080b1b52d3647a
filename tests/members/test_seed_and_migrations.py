"""The demo seed, and the migration history matching the models."""

from __future__ import annotations

from migration_drift import migration_drift


from shared.database import Database

from services.members.profiles import service as profiles
from services.members.profiles.answers import LifecycleStage
from services.members.models import SCHEMA, metadata
from services.members.seed import seed_demo
from tests.members.conftest import OPERATOR


async def test_the_demo_seed_is_varied_and_runs_once(database: Database) -> None:
    ids = await seed_demo(database, count=40)
    assert len(ids) == 40
    assert await seed_demo(database) == []  # the table is no longer empty
    views = [await profiles.get_member(database, OPERATOR, i) for i in ids]
    tiers = {v.tier for v in views}
    assert tiers == {"BASIC", "SILVER", "GOLD", "DIAMOND"}
    assert {v.lifecycle_stage for v in views} == set(LifecycleStage)
    assert {v.status for v in views} == {"ACTIVE", "SUSPENDED"}
    assert any(v.preferences and v.preferences.categories for v in views)
    assert views[1].phone == "+8613800000001"  # deterministic, so demos can rely on it


async def test_the_migrations_create_exactly_what_the_models_say(database: Database) -> None:
    async with database.engine.connect() as connection:
        assert await migration_drift(connection, metadata, SCHEMA) == []
