"""shared.database.testing is a plugin any project can use: it migrates the histories its
`service_migrations` fixture lists (none of ours needed), and says so when that fixture is missing."""

from __future__ import annotations

import textwrap

import pytest

INI = """
[pytest]
asyncio_mode = auto
asyncio_default_fixture_loop_scope = session
asyncio_default_test_loop_scope = session
"""

ENV = """
from sqlalchemy import Column, Integer, MetaData, Table

from shared.database.migrations import run_env

metadata = MetaData()
Table("things", metadata, Column("id", Integer, primary_key=True), schema="demo")
run_env(schema="demo", metadata=metadata)
"""

VERSION = '''
"""things"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("things", sa.Column("id", sa.Integer, primary_key=True), schema="demo")


def downgrade() -> None:
    op.drop_table("things", schema="demo")
'''

CONFTEST = """
from pathlib import Path

import pytest

from shared.database.migrations import Migrations

pytest_plugins = ["shared.database.testing"]


@pytest.fixture(scope="session")
def service_migrations():
    return [Migrations(Path(__file__).parent / "demo_migrations", "demo")]
"""

TEST = """
import asyncpg

from shared.database.urls import to_libpq_url


async def test_fill(db):
    connection = await asyncpg.connect(to_libpq_url(db))
    try:
        await connection.execute("INSERT INTO demo.things (id) VALUES (1)")
    finally:
        await connection.close()


async def test_starts_empty(db):
    connection = await asyncpg.connect(to_libpq_url(db))
    try:
        assert await connection.fetchval("SELECT count(*) FROM demo.things") == 0
    finally:
        await connection.close()
"""


def test_a_project_of_its_own_gets_its_histories_migrated_and_emptied(
    pytester: pytest.Pytester, database_server_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makeini(INI)
    folder = pytester.mkdir("demo_migrations")
    (folder / "env.py").write_text(textwrap.dedent(ENV))
    (folder / "versions").mkdir()
    (folder / "versions" / "0001_things.py").write_text(VERSION)
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_demo=TEST)
    monkeypatch.setenv("DATABASE_URL", database_server_url)  # the running server, not a second one
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_without_service_migrations_it_says_what_is_missing(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    pytester.makeconftest('pytest_plugins = ["shared.database.testing"]\n')
    pytester.makepyfile(test_demo="async def test_needs_a_database(db):\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*needs a session-scoped `service_migrations` fixture*"])


async def test_emptying_the_tables_is_done_again_when_a_running_service_deadlocks_with_it() -> None:
    import asyncpg

    from shared.database.testing import _truncate

    class Connection:
        def __init__(self, failures: int) -> None:
            self.failures, self.statements = failures, []

        async def execute(self, sql: str) -> None:
            self.statements.append(sql)
            if len(self.statements) <= self.failures:
                raise asyncpg.exceptions.DeadlockDetectedError("deadlock detected")

    once = Connection(failures=1)
    await _truncate(once, ["a.t", "b.u"])  # type: ignore[arg-type]
    assert once.statements == ["TRUNCATE a.t, b.u RESTART IDENTITY CASCADE"] * 2
    always = Connection(failures=99)
    with pytest.raises(asyncpg.exceptions.DeadlockDetectedError):
        await _truncate(always, ["a.t"], attempts=3)  # type: ignore[arg-type]
    assert len(always.statements) == 3
