"""The benefits migration creates exactly what the models say (the registry's columns and checks too)."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from shared.database import Database

from services.benefits.models import SCHEMA, metadata


async def test_the_migration_matches_the_models(database: Database) -> None:
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

    async with database.engine.connect() as connection:
        assert await connection.run_sync(diff) == []


@pytest.mark.parametrize("roles", [[], ["EARNING", "SPENDING"]])
async def test_the_database_refuses_roles_that_do_not_exist(database: Database, roles: list[str]) -> None:
    with pytest.raises(IntegrityError):
        async with database.engine.begin() as connection:
            await connection.execute(text(
                "INSERT INTO benefits.partners (id, name, brand, status, roles, currency, created_at, updated_at)"
                " VALUES (gen_random_uuid(), 'x', 'x', 'ACTIVE', :roles, 'CNY', now(), now())"
            ), {"roles": roles})
