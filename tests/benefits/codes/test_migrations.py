"""The initial migration creates exactly what the benefits models say (the code indexes included)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from codes_kit import Kit
from sqlalchemy import text

from services.benefits.models import SCHEMA, metadata


async def test_the_migration_creates_exactly_what_the_models_say(kit: Kit) -> None:
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
        indexes = (await connection.execute(text(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'benefits' AND tablename = 'codes'"))).all()
    found = dict(indexes)  # type: ignore[arg-type]
    assert "INCLUDE (state)" in found["ix_codes_benefit"]
    assert "WHERE ((state)::text = 'ISSUED'::text)" in found["ix_codes_issued_expiry"]
