"""What a service's migrated schema lacks or has beyond its models (alembic's autogenerate diff),
for the tests that check a migration history creates exactly what the models say."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncConnection


async def migration_drift(connection: AsyncConnection, metadata: MetaData, schema: str) -> list[Any]:
    """The differences between the database's `schema` and `metadata` (empty when they agree)."""

    def diff(sync_connection: Any) -> list[Any]:
        context = MigrationContext.configure(
            sync_connection,
            opts={
                "include_schemas": True,
                "include_name": lambda name, type_, _: type_ != "schema" or name == schema,
                "include_object": lambda obj, name, type_, reflected, compare_to: getattr(
                    obj if type_ == "table" else getattr(obj, "table", None), "schema", schema
                ) == schema,
                "compare_type": True,
                "version_table_schema": schema,
            },
        )
        return compare_metadata(context, metadata)

    return await connection.run_sync(diff)
