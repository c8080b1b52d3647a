"""Pytest fixtures: a real PostgreSQL for every test that touches data (a pytest plugin).

The server is the embedded one (a throwaway cluster of this session's own under the data dir,
deleted at the end) unless `DATABASE_URL` names another. Either way each test session creates its
own database on that server, applies the migration histories that the `service_migrations`
fixture lists (the project's conftest provides it: this library knows no service), and drops the
database at the end. Each test that asks for `db` starts from empty tables (one TRUNCATE of every
table in those schemas), which takes milliseconds.

With database roles on (ABG_DB_ROLES, the default) the migrations create each schema's owner and
runtime roles, with passwords of this session's own: `database_role_urls` gives the URL of each
runtime role, so tests can run a service as it runs in production. Fixtures keep the admin URL.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path

import asyncpg
import pytest

from shared.database.engine import dispose_databases
from shared.database.migrations import VERSION_TABLE, Migrations, upgrade_async
from shared.database.roles import runtime_role
from shared.database.urls import redact, to_async_url, to_libpq_url, with_credentials, with_database
from shared.settings import get_settings, reset_settings_cache


@pytest.fixture(scope="session")
def service_migrations() -> Sequence[Migrations]:
    """The migration histories to apply to the test database; override it in a conftest."""
    pytest.fail(
        "shared.database.testing needs a session-scoped `service_migrations` fixture in a conftest"
        " that lists the Migrations (folder, schema) of each service the tests use",
        pytrace=False,
    )


@pytest.fixture(scope="session")
def database_server_url() -> Iterator[str]:
    """A URL of a PostgreSQL server (its maintenance database) that tests may create databases on."""
    given = os.environ.get("DATABASE_URL")
    if given:
        yield to_async_url(given)
        return
    from shared.database.embedded import start_embedded

    # A cluster of this session's own: overlapping test runs must not stop each other's server.
    root = get_settings().data_dir / "test-clusters"
    root.mkdir(parents=True, exist_ok=True)
    pgdata = Path(tempfile.mkdtemp(prefix="run-", dir=root))
    pgdata.rmdir()  # the wheel creates it, owned by its own system user when run as root
    server = start_embedded(pgdata, for_tests=True)
    try:
        yield server.url
    finally:
        server.stop()
        shutil.rmtree(pgdata, ignore_errors=True)


@pytest.fixture(scope="session")
def database_role_passwords(service_migrations: Sequence[Migrations]) -> dict[str, str]:
    """This session's passwords of the runtime roles, by schema."""
    return {migrations.schema: secrets.token_urlsafe(18) for migrations in service_migrations}


@pytest.fixture(scope="session")
def database_role_urls(database_url: str, database_role_passwords: dict[str, str]) -> dict[str, str]:
    """The test database as each schema's runtime role (what a service connects with), by schema."""
    if not get_settings().db_roles:
        pytest.skip("database roles are off (ABG_DB_ROLES)")
    return {
        schema: with_credentials(database_url, runtime_role(schema), password)
        for schema, password in database_role_passwords.items()
    }


@pytest.fixture(scope="session")
async def database_url(
    service_migrations: Sequence[Migrations], database_server_url: str, database_role_passwords: dict[str, str]
) -> AsyncIterator[str]:
    """A fresh, migrated database for this test session; the environment points every service at it."""
    name = f"abg_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(to_libpq_url(database_server_url))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = with_database(database_server_url, name)
    previous = {key: os.environ.get(key) for key in ("DATABASE_URL", "ABG_ENV")}
    os.environ["DATABASE_URL"] = url
    os.environ["ABG_ENV"] = "test"
    reset_settings_cache()
    try:
        roles = get_settings().db_roles
        for migrations in service_migrations:
            password = database_role_passwords[migrations.schema]
            await upgrade_async(migrations, url, roles=roles, password=password)
        yield url
    finally:
        await dispose_databases()
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        reset_settings_cache()
        admin = await asyncpg.connect(to_libpq_url(database_server_url))
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        except Exception as error:  # a leftover test database is untidy, not a failure
            print(f"could not drop {name} on {redact(database_server_url)}: {error}")
        finally:
            await admin.close()


async def _truncate(connection: asyncpg.Connection, tables: Sequence[str], attempts: int = 5) -> None:
    """One TRUNCATE of every table. Services running as processes beside the tests (their
    background loops lock rows as they go) can deadlock with it; PostgreSQL then aborts one side,
    and if that is this side it is simply done again."""
    for attempt in range(attempts):
        try:
            await connection.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
            return
        except asyncpg.exceptions.DeadlockDetectedError:
            if attempt == attempts - 1:
                raise
            await asyncio.sleep(0.05 * (attempt + 1))


@pytest.fixture
async def db(database_url: str, service_migrations: Sequence[Migrations]) -> AsyncIterator[str]:
    """Empty service tables for this test; yields the database URL."""
    connection = await asyncpg.connect(to_libpq_url(database_url))
    try:
        tables = await connection.fetch(
            "SELECT format('%I.%I', schemaname, tablename) AS name FROM pg_tables"
            " WHERE schemaname = ANY($1::text[]) AND tablename <> $2",
            [migrations.schema for migrations in service_migrations],
            VERSION_TABLE,
        )
        if tables:
            # Append-only tables refuse TRUNCATE unless it is asked for deliberately.
            await connection.execute("SET abg.allow_truncate = 'on'")
            await _truncate(connection, [t["name"] for t in tables])
    finally:
        await connection.close()
    yield database_url
