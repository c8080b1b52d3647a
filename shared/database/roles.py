"""Least privilege in PostgreSQL: per service schema, an owner role and a runtime role.

The owner (`abg_<schema>_owner`, NOLOGIN) owns the schema and everything in it; migrations run as
it (`SET ROLE`, from the admin connection). The runtime role (`abg_<schema>`, LOGIN) is what the
service connects with: USAGE on its own schema, DML on its tables and sequences, nothing on other
schemas, no DDL; on append-only tables only SELECT and INSERT. Neither is superuser nor may create
roles or databases, so neither can `SET session_replication_role` to silence triggers.

Two halves: `provision` runs on the admin connection before migrating (creates the roles, or checks
them when the admin may not create roles, and hands the schema to its owner); `grant_statements`
run inside the migration, as the owner, after every migration run (so new tables are covered even
where default privileges did not reach).
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from shared.database.urls import to_libpq_url

ADVISORY_KEY = "abg:roles"
TABLE_PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE"
SEQUENCE_PRIVILEGES = "USAGE, SELECT, UPDATE"


def owner_role(schema: str) -> str:
    return f"abg_{schema}_owner"


def runtime_role(schema: str) -> str:
    return f"abg_{schema}"


class RolesMissing(RuntimeError):
    """The roles a schema needs do not exist and the admin connection may not create them."""


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class RolePlan:
    """The roles of one schema, and its tables that take no UPDATE, DELETE or TRUNCATE."""

    schema: str
    append_only: tuple[str, ...] = ()

    @property
    def owner(self) -> str:
        return owner_role(self.schema)

    @property
    def runtime(self) -> str:
        return runtime_role(self.schema)

    def create_sql(self) -> str:
        """What an operator runs by hand when the admin connection may not create roles."""
        return (
            f"CREATE ROLE {_ident(self.owner)} NOLOGIN; "
            f"CREATE ROLE {_ident(self.runtime)} LOGIN PASSWORD '…'; "
            f"GRANT {_ident(self.owner)} TO <the migrating user>;"
        )


async def provision(admin_url: str, plan: RolePlan, password: str | None) -> list[str]:
    """Creates the roles (or checks they exist), sets the runtime role's password when given, and
    makes the owner own the schema and everything already in it. Returns notes for the operator."""
    connection = await asyncpg.connect(to_libpq_url(admin_url))
    try:
        async with connection.transaction():
            # Roles are per server; several services (or test runs) provision at once.
            await connection.execute("SELECT pg_advisory_xact_lock(hashtext($1))", ADVISORY_KEY)
            return await _provision(connection, plan, password)
    except asyncpg.exceptions.InsufficientPrivilegeError as error:
        raise RolesMissing(f"cannot set up the roles of schema {plan.schema}: {error}") from error
    finally:
        await connection.close()


async def _provision(connection: asyncpg.Connection, plan: RolePlan, password: str | None) -> list[str]:
    me = await connection.fetchrow(
        "SELECT rolname, rolsuper, rolcreaterole FROM pg_roles WHERE rolname = current_user"
    )
    may_create = bool(me["rolsuper"] or me["rolcreaterole"])
    found = {
        row["rolname"]
        for row in await connection.fetch("SELECT rolname FROM pg_roles WHERE rolname = ANY($1::text[])", [plan.owner, plan.runtime])
    }
    missing = [name for name in (plan.owner, plan.runtime) if name not in found]
    if missing and not may_create:
        raise RolesMissing(
            f"the database roles {', '.join(missing)} do not exist and {me['rolname']} may not create them:"
            f" run as a user with CREATEROLE, or create them yourself ({plan.create_sql()}),"
            " or set ABG_DB_ROLES=off to connect every service with the given URL"
        )
    notes = []
    if plan.owner not in found:
        await connection.execute(f"CREATE ROLE {_ident(plan.owner)} NOLOGIN")
    if plan.runtime not in found:
        await connection.execute(f"CREATE ROLE {_ident(plan.runtime)} LOGIN")
    if me["rolsuper"]:
        # Whatever they were before: no way around privileges, triggers or row security.
        for role in (plan.owner, plan.runtime):
            await connection.execute(f"ALTER ROLE {_ident(role)} NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS")
    else:  # only a superuser may take those away; refuse to go on with them
        flags = await connection.fetch(
            "SELECT rolname FROM pg_roles WHERE rolname = ANY($1::text[])"
            " AND (rolsuper OR rolcreaterole OR rolcreatedb OR rolbypassrls)",
            [plan.owner, plan.runtime],
        )
        if flags:
            unsafe = ", ".join(row["rolname"] for row in flags)
            raise RolesMissing(f"the roles {unsafe} hold SUPERUSER, CREATEROLE, CREATEDB or BYPASSRLS; take those away")
    if may_create and password is not None:
        statement = await connection.fetchval(
            "SELECT format('ALTER ROLE %I PASSWORD %L', $1::text, $2::text)", plan.runtime, password
        )
        await connection.execute(statement)
    elif plan.runtime not in found:
        notes.append(f"{plan.runtime} has no password yet: give ABG_<SERVICE>_DB_PASSWORD, or set one with ALTER ROLE")
    if not me["rolsuper"]:
        await _join_owner(connection, plan, me["rolname"])
    await _own_schema(connection, plan)
    return notes


async def _join_owner(connection: asyncpg.Connection, plan: RolePlan, me: str) -> None:
    """A non-superuser migrates by SET ROLE to the owner, so it must be a member of it."""
    member = await connection.fetchval("SELECT pg_has_role(current_user, $1, 'SET')", plan.owner)
    if member:
        return
    try:
        await connection.execute(f"GRANT {_ident(plan.owner)} TO {_ident(me)} WITH INHERIT FALSE, SET TRUE")
    except asyncpg.PostgresError as error:
        raise RolesMissing(f"{me} cannot SET ROLE {plan.owner} to migrate ({error}): GRANT {plan.owner} TO {me}") from error


async def _own_schema(connection: asyncpg.Connection, plan: RolePlan) -> None:
    """Creates the schema for its owner, or hands an existing one (made before roles existed, by
    the admin) to the owner with everything in it."""
    owner = await connection.fetchval("SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = $1", plan.schema)
    schema, to = _ident(plan.schema), _ident(plan.owner)
    if owner is None:
        await connection.execute(f"CREATE SCHEMA {schema} AUTHORIZATION {to}")
        return
    if owner.strip('"') != plan.owner:
        await connection.execute(f"ALTER SCHEMA {schema} OWNER TO {to}")
    # Tables, views and sequences not owned through a column (those follow their table).
    relations = await connection.fetch(
        "SELECT format('%I.%I', n.nspname, c.relname) AS name, c.relkind::text AS relkind FROM pg_class c"
        " JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')"
        " AND c.relowner <> $2::text::regrole"
        " AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass"
        "                 AND d.objid = c.oid AND d.deptype IN ('a', 'i'))",
        plan.schema,
        plan.owner,
    )
    kinds = {"r": "TABLE", "p": "TABLE", "v": "VIEW", "m": "MATERIALIZED VIEW", "S": "SEQUENCE", "f": "FOREIGN TABLE"}
    for row in relations:
        await connection.execute(f"ALTER {kinds[row['relkind']]} {row['name']} OWNER TO {to}")
    for keyword, query in _OTHER_OWNED.items():
        for row in await connection.fetch(query, plan.schema, plan.owner):
            await connection.execute(f"ALTER {keyword} {row['name']} OWNER TO {to}")


# Routines and types (enums, domains, ranges) in a schema ($1) not yet owned by its owner ($2).
_OTHER_OWNED = {
    "ROUTINE": "SELECT p.oid::regprocedure::text AS name FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
    " WHERE n.nspname = $1 AND p.proowner <> $2::text::regrole",
    "TYPE": "SELECT t.oid::regtype::text AS name FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace"
    " WHERE n.nspname = $1 AND t.typtype IN ('e', 'd', 'r') AND t.typowner <> $2::text::regrole",
}


def grant_statements(plan: RolePlan, version_table: str) -> list[str]:
    """Run as the owner at the end of every migration run: the runtime role's privileges on what
    exists now, default privileges for what the owner creates later, and the refusals."""
    schema, owner, runtime = _ident(plan.schema), _ident(plan.owner), _ident(plan.runtime)
    statements = [
        f"REVOKE ALL ON SCHEMA {schema} FROM PUBLIC",
        f"GRANT USAGE ON SCHEMA {schema} TO {runtime}",
        f"GRANT {TABLE_PRIVILEGES} ON ALL TABLES IN SCHEMA {schema} TO {runtime}",
        f"GRANT {SEQUENCE_PRIVILEGES} ON ALL SEQUENCES IN SCHEMA {schema} TO {runtime}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA {schema} GRANT {TABLE_PRIVILEGES} ON TABLES TO {runtime}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA {schema} GRANT {SEQUENCE_PRIVILEGES} ON SEQUENCES TO {runtime}",
        # The migration history is the owner's business.
        f"REVOKE ALL ON {schema}.{_ident(version_table)} FROM {runtime}",
    ]
    for table in plan.append_only:
        statements.append(f"REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON {schema}.{_ident(table)} FROM {runtime}")
    return statements


class RolePasswords:
    """The runtime roles' generated passwords of the embedded server, in a file only its owner reads."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _read(self) -> dict[str, str]:
        try:
            return dict(json.loads(self.path.read_text()))
        except FileNotFoundError:
            return {}

    def get(self, role: str) -> str | None:
        return self._read().get(role)

    def ensure(self, role: str) -> str:
        """The role's password, generated and kept on first use."""
        known = self._read()
        if role not in known:
            known[role] = secrets.token_urlsafe(24)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            partial = self.path.with_suffix(f".{os.getpid()}.tmp")
            descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "w") as handle:
                json.dump(known, handle, indent=1, sort_keys=True)
            os.replace(partial, self.path)
        return known[role]
