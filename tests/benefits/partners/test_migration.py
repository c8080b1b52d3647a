"""The benefits migration creates exactly what the models say (the registry's columns and checks too)."""

from __future__ import annotations

from migration_drift import migration_drift

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from shared.database import Database

from services.benefits.models import SCHEMA, metadata


async def test_the_migration_matches_the_models(database: Database) -> None:
    async with database.engine.connect() as connection:
        assert await migration_drift(connection, metadata, SCHEMA) == []


@pytest.mark.parametrize("roles", [[], ["EARNING", "SPENDING"]])
async def test_the_database_refuses_roles_that_do_not_exist(database: Database, roles: list[str]) -> None:
    with pytest.raises(IntegrityError):
        async with database.engine.begin() as connection:
            await connection.execute(text(
                "INSERT INTO benefits.partners (id, name, brand, status, roles, currency, created_at, updated_at)"
                " VALUES (gen_random_uuid(), 'x', 'x', 'ACTIVE', :roles, 'CNY', now(), now())"
            ), {"roles": roles})
