"""The points service's database role may append to the ledger and read it, nothing more; and the
ledger refuses TRUNCATE even from its owner unless that is asked for deliberately.

Each refusal is tried on a real connection as the role (a plan-time privilege check: no rows are
needed), so a grant too many would make these tests fail."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from connections import connected

from live_services import start_processes
from shared.auth.tokens import mint_token
from shared.settings import settings_of_environment

LEDGER = ("points.ledger_transactions", "points.postings")
COLUMN = {"points.ledger_transactions": "kind", "points.postings": "account"}


@pytest.fixture
async def as_points(db: str, database_role_urls: dict[str, str]) -> AsyncIterator[asyncpg.Connection]:
    async with connected(database_role_urls["points"]) as connection:
        yield connection


@pytest.fixture
async def as_admin(db: str) -> AsyncIterator[asyncpg.Connection]:
    async with connected(db) as connection:
        yield connection


async def _append(connection: asyncpg.Connection) -> uuid.UUID:
    """One ledger transaction with its two postings, as the service writes them."""
    tx = uuid.uuid4()
    await connection.execute(
        "INSERT INTO points.ledger_transactions (id, member_id, sequence, kind, actor, created_at, prev_hash, hash)"
        " VALUES ($1, $2, 1, 'ADJUST', 'test', now(), '', 'h')",
        tx,
        uuid.uuid4(),
    )
    await connection.execute(
        "INSERT INTO points.postings (transaction_id, account, amount) VALUES ($1, 'member:a', 5), ($1, 'alliance', -5)", tx
    )
    return tx


async def test_the_points_role_appends_to_the_ledger_and_reads_it(as_points: asyncpg.Connection) -> None:
    assert await as_points.fetchval("SELECT current_user") == "abg_points"
    tx = await _append(as_points)
    assert await as_points.fetchval("SELECT sum(amount) FROM points.postings WHERE transaction_id = $1", tx) == 0


@pytest.mark.parametrize("table", LEDGER)
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE {table} SET {column} = {column}",
        "DELETE FROM {table}",
        "TRUNCATE {table}",
        "SELECT 1 FROM {table} FOR UPDATE",
    ],
)
async def test_the_points_role_may_not_change_the_ledger(as_points: asyncpg.Connection, table: str, statement: str) -> None:
    with pytest.raises(asyncpg.exceptions.InsufficientPrivilegeError, match="permission denied"):
        await as_points.execute(statement.format(table=table, column=COLUMN[table]))


@pytest.mark.parametrize("table", LEDGER)
async def test_the_points_role_may_not_alter_or_drop_the_ledger(as_points: asyncpg.Connection, table: str) -> None:
    for statement in (
        f"ALTER TABLE {table} DISABLE TRIGGER USER",
        f"ALTER TABLE {table} ADD COLUMN sneaky int",
        f"DROP TABLE {table}",
    ):
        with pytest.raises(asyncpg.exceptions.InsufficientPrivilegeError, match="must be owner"):
            await as_points.execute(statement)


async def test_the_points_role_may_not_silence_triggers_or_create_tables(as_points: asyncpg.Connection) -> None:
    with pytest.raises(asyncpg.exceptions.InsufficientPrivilegeError, match="session_replication_role"):
        await as_points.execute("SET session_replication_role = replica")
    with pytest.raises(asyncpg.exceptions.InsufficientPrivilegeError):
        await as_points.execute("CREATE TABLE points.shadow (id int)")
    with pytest.raises(asyncpg.exceptions.InsufficientPrivilegeError):
        await as_points.execute("SET ROLE abg_points_owner")
    flags = await as_points.fetchrow("SELECT rolsuper, rolcreaterole, rolcreatedb, rolbypassrls FROM pg_roles WHERE rolname = current_user")
    assert not any(flags.values())


async def test_the_points_role_reads_no_other_schema_nor_the_migration_history(as_points: asyncpg.Connection) -> None:
    for table in ("members.members", "benefits.benefits", "redemptions.redemptions"):
        with pytest.raises(asyncpg.exceptions.InsufficientPrivilegeError, match="permission denied for schema"):
            await as_points.fetch(f"SELECT 1 FROM {table} LIMIT 1")
    with pytest.raises(asyncpg.exceptions.InsufficientPrivilegeError):
        await as_points.fetch("SELECT 1 FROM points.alembic_version")


async def test_the_ledger_refuses_truncate_from_its_owner_unless_asked_deliberately(as_admin: asyncpg.Connection) -> None:
    await _append(as_admin)
    await as_admin.execute("SET ROLE abg_points_owner")
    for table in LEDGER:
        with pytest.raises(asyncpg.exceptions.RaiseError, match="append-only: TRUNCATE"):
            await as_admin.execute(f"TRUNCATE {table} CASCADE")
    assert await as_admin.fetchval("SELECT count(*) FROM points.postings") == 2
    # The row triggers stand for the owner too.
    with pytest.raises(asyncpg.exceptions.RaiseError, match="append-only: UPDATE"):
        await as_admin.execute("UPDATE points.postings SET amount = amount")
    await as_admin.execute("SET abg.allow_truncate = 'on'")
    await as_admin.execute("TRUNCATE points.ledger_transactions CASCADE")
    assert await as_admin.fetchval("SELECT count(*) FROM points.postings") == 0


async def test_the_points_service_runs_as_its_role_and_serves(
    db: str, database_role_urls: dict[str, str], as_admin: asyncpg.Connection, tmp_path: Path
) -> None:
    env = {"ABG_POINTS_DATABASE_URL": database_role_urls["points"], "ABG_POINTS_MEMBER_CHECK": "trust"}
    processes = start_processes(["points"], database_url=db, log_dir=tmp_path, env=env)
    try:
        token = mint_token("staff", "ops-1", roles=["operator"], settings=settings_of_environment({}))
        member = str(uuid.uuid4())
        answer = httpx.post(
            processes.urls["points"],
            json={
                "query": "mutation($input: AdjustInput!) { adjustPoints(input: $input) { points } }",
                "variables": {"input": {"memberId": member, "points": 5, "reason": "goodwill", "idempotencyKey": "k"}},
            },
            headers={"authorization": f"Bearer {token}"},
            timeout=30,
        ).json()
        assert answer == {"data": {"adjustPoints": {"points": 5}}}, answer
        users = await as_admin.fetch(
            "SELECT DISTINCT usename FROM pg_stat_activity WHERE datname = current_database()"
            " AND application_name = 'alliance-benefits-graph' AND usename <> current_user"
        )
        assert {row["usename"] for row in users} == {"abg_points"}  # beside this test's own pools
        assert await as_admin.fetchval("SELECT count(*) FROM points.ledger_transactions WHERE member_id = $1", uuid.UUID(member)) == 1
    finally:
        processes.close()
