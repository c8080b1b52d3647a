"""Every service's runtime database role works in its own schema and nowhere else, and `abg migrate`
on a given DATABASE_URL sets up the roles or says what stands in the way."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest
from connections import connected
from click.testing import CliRunner

from abg.cli import main
from abg.services import SERVICES, service_names
from shared.database.resolve import database_url_for
from shared.database.urls import with_credentials
from shared.settings import get_settings, reset_settings_cache

NAMES = service_names()


@pytest.fixture
async def admin(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    async with connected(database_url) as connection:
        yield connection


@pytest.fixture
def fresh_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Environment changes read anew, and undone (the command also sets up logging)."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    reset_settings_cache()
    yield monkeypatch
    monkeypatch.undo()
    reset_settings_cache()
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.parametrize("name", NAMES)
async def test_a_runtime_role_reads_and_writes_its_own_schema_only(
    name: str, database_role_urls: dict[str, str], admin: asyncpg.Connection
) -> None:
    tables = await admin.fetch("SELECT schemaname, tablename FROM pg_tables WHERE schemaname = ANY($1::text[])", NAMES)
    async with connected(database_role_urls[name]) as connection:
        for row in tables:
            table = f"{row['schemaname']}.{row['tablename']}"
            if row["schemaname"] == name and row["tablename"] != "alembic_version":
                await connection.fetch(f"SELECT * FROM {table} LIMIT 1")
                assert await connection.fetchval("SELECT has_table_privilege($1, 'INSERT')", table)
            else:
                with pytest.raises(asyncpg.exceptions.InsufficientPrivilegeError):
                    await connection.fetch(f"SELECT * FROM {table} LIMIT 1")
        others = [other for other in NAMES if other != name]
        assert not await connection.fetchval(
            "SELECT bool_or(has_schema_privilege(s, 'USAGE') OR has_schema_privilege(s, 'CREATE')) FROM unnest($1::text[]) s",
            others,
        )
        assert not await connection.fetchval("SELECT has_schema_privilege($1, 'CREATE')", name)


async def test_members_and_points_roles_cannot_read_each_others_schema(database_role_urls: dict[str, str]) -> None:
    for role, foreign in (("members", "points.ledger_transactions"), ("points", "members.members")):
        async with connected(database_role_urls[role]) as connection:
            with pytest.raises(asyncpg.exceptions.InsufficientPrivilegeError, match="permission denied for schema"):
                await connection.fetch(f"SELECT * FROM {foreign} LIMIT 1")


async def test_each_schema_and_its_tables_belong_to_the_schemas_owner(admin: asyncpg.Connection) -> None:
    owners = await admin.fetch(
        "SELECT n.nspname AS schema, n.nspowner::regrole::text AS schema_owner, c.relowner::regrole::text AS owner"
        " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ANY($1::text[])",
        NAMES,
    )
    assert {row["schema"] for row in owners} == set(NAMES)
    for row in owners:
        assert row["owner"] == row["schema_owner"] == f"abg_{row['schema']}_owner"


async def _run_sql(url: str, *statements: str) -> object:
    """Runs the statements on a connection of its own; the last one's value."""
    async with connected(url) as connection:
        value = None
        for statement in statements:
            value = await connection.fetchval(statement)
        return value


# The command runs its own event loop, so these tests are not coroutines.
def test_migrate_with_a_password_lets_the_service_connect_as_its_role(
    database_url: str, database_role_passwords: dict[str, str], fresh_settings: pytest.MonkeyPatch
) -> None:
    fresh_settings.setenv("ABG_POINTS_DB_PASSWORD", database_role_passwords["points"])
    result = CliRunner().invoke(main, ["migrate", "points"])
    assert result.exit_code == 0, result.output
    url = asyncio.run(database_url_for("points", get_settings()))
    assert url == with_credentials(database_url, "abg_points", database_role_passwords["points"])
    assert asyncio.run(_run_sql(url, "SELECT current_user")) == "abg_points"
    fresh_settings.setenv("ABG_DB_ROLES", "off")
    reset_settings_cache()
    assert asyncio.run(database_url_for("points", get_settings())) == database_url  # as given


def test_migrate_as_a_user_who_may_not_set_up_the_roles_says_what_is_missing(
    database_url: str, fresh_settings: pytest.MonkeyPatch
) -> None:
    asyncio.run(_run_sql(database_url, "DROP ROLE IF EXISTS abg_test_weak", "CREATE ROLE abg_test_weak LOGIN PASSWORD 'weak'"))
    try:
        fresh_settings.setenv("DATABASE_URL", with_credentials(database_url, "abg_test_weak", "weak"))
        result = CliRunner().invoke(main, ["migrate", "members"])
        assert result.exit_code == 1
        assert "members:" in result.output and "abg_test_weak" in result.output
        assert "GRANT abg_members_owner TO abg_test_weak" in result.output
    finally:
        asyncio.run(_run_sql(database_url, "DROP ROLE abg_test_weak"))


def test_every_service_has_its_role_names() -> None:
    assert [service.migrations.roles.runtime for service in SERVICES] == [f"abg_{name}" for name in NAMES]
    points = next(service for service in SERVICES if service.name == "points")
    assert set(points.migrations.append_only) == {"ledger_transactions", "postings"}
