"""The migration history creates exactly what the models say, and the ledger tables are append-only."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from services.points.models import SCHEMA, metadata


async def test_the_migrations_create_exactly_what_the_models_say(kit) -> None:  # noqa: ANN001
    def diff(connection) -> list:  # noqa: ANN001
        context = MigrationContext.configure(
            connection,
            opts={
                "include_schemas": True,
                "include_name": lambda name, type_, _: type_ != "schema" or name == SCHEMA,
                "include_object": lambda obj, name, type_, reflected, compare_to: getattr(
                    obj if type_ == "table" else getattr(obj, "table", None), "schema", SCHEMA
                ) == SCHEMA,
                "compare_type": True,
                "version_table_schema": SCHEMA,
            },
        )
        return compare_metadata(context, metadata)

    async with kit.db.engine.connect() as connection:
        assert await connection.run_sync(diff) == []
        triggers = (
            await connection.execute(
                text("SELECT event_object_table, event_manipulation FROM information_schema.triggers WHERE trigger_schema = 'points'")
            )
        ).all()
    assert sorted(triggers) == sorted(
        (table, event) for table in ("ledger_transactions", "postings") for event in ("UPDATE", "DELETE")
    )
