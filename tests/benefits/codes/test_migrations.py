"""The initial migration creates exactly what the benefits models say (the code indexes included)."""

from __future__ import annotations

from migration_drift import migration_drift

from codes_kit import Kit
from sqlalchemy import text

from services.benefits.models import SCHEMA, metadata


async def test_the_migration_creates_exactly_what_the_models_say(kit: Kit) -> None:
    async with kit.db.engine.connect() as connection:
        assert await migration_drift(connection, metadata, SCHEMA) == []
        indexes = (await connection.execute(text(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'benefits' AND tablename = 'codes'"))).all()
    found = dict(indexes)  # type: ignore[arg-type]
    assert "INCLUDE (state)" in found["ix_codes_benefit"]
    assert "WHERE ((state)::text = 'ISSUED'::text)" in found["ix_codes_issued_expiry"]
