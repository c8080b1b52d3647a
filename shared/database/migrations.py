"""Alembic migrations, one history per service, each with its version table in its own schema.

No alembic.ini: the config is built here from a `Migrations` (the service's migrations folder and
the schema it owns), which the caller supplies; this library knows no service. Each service's
`env.py` is two lines that call `run_env`. Migrations take an advisory lock, so several processes
starting at once apply them once.

With database roles on (`roles`), `upgrade` first provisions the schema's owner and runtime roles
on the admin connection, then migrates as the owner (`SET ROLE`) and re-applies the runtime role's
grants in the same transaction.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, pool, text
from sqlalchemy.ext.asyncio import create_async_engine

from shared.database.roles import RolePlan, grant_statements, provision
from shared.database.urls import to_async_url

VERSION_TABLE = "alembic_version"


@dataclass(frozen=True)
class Migrations:
    """A migration history: the folder holding its env.py and versions/, and the schema it owns."""

    folder: Path
    schema: str
    # Tables whose rows are never changed: the runtime role may only SELECT and INSERT them.
    append_only: tuple[str, ...] = ()

    @property
    def roles(self) -> RolePlan:
        return RolePlan(self.schema, self.append_only)


def alembic_config(migrations: Migrations, url: str, *, roles: bool = False) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations.folder))
    config.set_main_option("sqlalchemy.url", to_async_url(url).replace("%", "%%"))
    config.set_main_option("file_template", "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s")
    config.attributes["schema"] = migrations.schema
    if roles:
        config.attributes["roles"] = migrations.roles
    return config


def upgrade(
    migrations: Migrations, url: str, revision: str = "head", *, roles: bool = False, password: str | None = None
) -> list[str]:
    """Applies the history to the database (blocking; runs its own event loop). With `roles`, the
    roles are provisioned first (`password`: the runtime role's); returns notes for the operator."""
    notes = asyncio.run(provision(url, migrations.roles, password)) if roles else []
    command.upgrade(alembic_config(migrations, url, roles=roles), revision)
    return notes


async def upgrade_async(
    migrations: Migrations, url: str, revision: str = "head", *, roles: bool = False, password: str | None = None
) -> list[str]:
    """`upgrade` from inside a running event loop (Alembic's env runs `asyncio.run`)."""
    return await asyncio.to_thread(upgrade, migrations, url, revision, roles=roles, password=password)


def revision(migrations: Migrations, url: str, message: str, autogenerate: bool = True) -> None:
    """Writes a new migration into the history, compared against the live database."""
    command.revision(alembic_config(migrations, url), message=message, autogenerate=autogenerate)


def run_env(schema: str, metadata: MetaData) -> None:
    """The body of every service's `env.py`."""
    url = context.config.get_main_option("sqlalchemy.url")
    assert url is not None
    # The caller named the schema too: a history handed over under the wrong service stops here.
    expected = context.config.attributes.get("schema", schema)
    if expected != schema:
        raise RuntimeError(f"this migration history is for schema {schema!r}, not {expected!r}")
    roles: RolePlan | None = context.config.attributes.get("roles")

    def include_name(name: str | None, type_: str, parent_names: dict) -> bool:
        if type_ == "schema":
            return name == schema
        return True

    def include_object(obj, name, type_, reflected, compare_to) -> bool:  # noqa: ANN001
        table = obj if type_ == "table" else getattr(obj, "table", None)
        return getattr(table, "schema", schema) == schema

    def run(connection) -> None:  # noqa: ANN001
        context.configure(
            connection=connection,
            target_metadata=metadata,
            version_table=VERSION_TABLE,
            version_table_schema=schema,
            include_schemas=True,
            include_name=include_name,
            include_object=include_object,
            compare_type=True,
        )
        with context.begin_transaction():
            connection.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"migrate:{schema}"})
            if roles is None:
                connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
                context.run_migrations()
                return
            # Everything the history creates belongs to the owner; the runtime role gets grants.
            connection.execute(text(f'SET LOCAL ROLE "{roles.owner}"'))
            context.run_migrations()
            for statement in grant_statements(roles, VERSION_TABLE):
                connection.execute(text(statement))

    async def run_async() -> None:
        engine = create_async_engine(url, poolclass=pool.NullPool)
        try:
            async with engine.connect() as connection:
                await connection.run_sync(run)
                await connection.commit()
        finally:
            await engine.dispose()

    asyncio.run(run_async())
