"""The migration history creates exactly what the models say (the figures' indexes included)."""

from __future__ import annotations

from migration_drift import migration_drift

from services.redemptions.models import SCHEMA, metadata
from shared.database import get_database


async def test_the_migrations_create_exactly_what_the_models_say(db: str) -> None:
    async with get_database(db).engine.connect() as connection:
        assert await migration_drift(connection, metadata, SCHEMA) == []
