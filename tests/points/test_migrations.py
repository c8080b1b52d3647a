"""The migration history creates exactly what the models say, and the ledger tables are append-only
(and notify on insert)."""

from __future__ import annotations

from migration_drift import migration_drift

from sqlalchemy import text

from services.points.models import SCHEMA, metadata


async def test_the_migrations_create_exactly_what_the_models_say(kit) -> None:  # noqa: ANN001
    async with kit.db.engine.connect() as connection:
        assert await migration_drift(connection, metadata, SCHEMA) == []
        triggers = (
            await connection.execute(
                text("SELECT event_object_table, event_manipulation FROM information_schema.triggers WHERE trigger_schema = 'points'")
            )
        ).all()
    # UPDATE and DELETE refused on both; an insert into the transactions notifies the member's feeds.
    assert sorted(triggers) == sorted(
        [*((table, event) for table in ("ledger_transactions", "postings") for event in ("UPDATE", "DELETE")),
         ("ledger_transactions", "INSERT")]
    )
