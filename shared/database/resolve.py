"""Which database a service uses: the configured URL, or the embedded server's; and as whom.

With database roles on (the default, see `roles`), a service connects as its runtime role and
migrations run on the admin URL (the configured one, or the embedded server's superuser) as the
schema's owner. The embedded server's runtime passwords are generated and kept in the data dir.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import asyncpg

from shared.database.roles import RolePasswords, runtime_role
from shared.database.urls import to_async_url, to_libpq_url, with_credentials, with_database
from shared.settings import Settings, get_settings

if TYPE_CHECKING:
    from shared.database.migrations import Migrations

# The database on the embedded server that the services share (each in its own schema).
EMBEDDED_DATABASE = "alliance"
ROLE_PASSWORDS_FILE = "db-role-passwords.json"


async def ensure_database(server_url: str, name: str) -> str:
    """Creates database `name` on the server if missing; returns its URL."""
    connection = await asyncpg.connect(to_libpq_url(server_url))
    try:
        exists = await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return with_database(server_url, name)


def role_passwords(settings: Settings) -> RolePasswords:
    return RolePasswords(settings.data_dir / ROLE_PASSWORDS_FILE)


_embedded_urls: dict[Path, str] = {}


async def embedded_database_url(settings: Settings) -> str:
    """The embedded server's shared database, as its superuser (started if needed). Remembered
    per process while the server runs: starting or attaching checks its settings with psql."""
    from shared.database.embedded import running_url, start_embedded

    pgdata = settings.data_dir / "pg"
    known = _embedded_urls.get(pgdata)
    if known is not None and running_url(pgdata) is not None:
        return known
    server = start_embedded(pgdata)
    url = _embedded_urls[pgdata] = await ensure_database(server.url, EMBEDDED_DATABASE)
    return url


async def admin_database_url_for(service: str, settings: Settings | None = None) -> str:
    """What migrations, seeds and new revisions use: the configured URL as given, or the embedded
    server's superuser."""
    settings = settings or get_settings()
    configured = settings.database_url_of(service)
    return to_async_url(configured) if configured else await embedded_database_url(settings)


async def database_url_for(service: str, settings: Settings | None = None) -> str:
    """What the service connects with: its runtime role when roles are on (on a configured URL,
    only when its password is given; otherwise the URL as it is)."""
    settings = settings or get_settings()
    role = runtime_role(service)
    configured = settings.database_url_of(service)
    if configured:
        password = settings.db_password_of(service)
        url = to_async_url(configured)
        return with_credentials(url, role, password) if settings.db_roles and password else url
    url = await embedded_database_url(settings)
    if not settings.db_roles:
        return url
    password = role_passwords(settings).get(role)
    if password is None:
        raise RuntimeError(f"{service}: its database role {role} is not set up yet; run `abg migrate {service}` first")
    return with_credentials(url, role, password)


async def migrate_service(service: str, migrations: Migrations, settings: Settings | None = None) -> list[str]:
    """Applies the service's history on its admin URL, with its roles when they are on; returns
    notes for the operator."""
    from shared.database.migrations import upgrade_async  # alembic is slow to import

    settings = settings or get_settings()
    url = await admin_database_url_for(service, settings)
    if not settings.db_roles:
        return await upgrade_async(migrations, url)
    if settings.database_url_of(service):
        password = settings.db_password_of(service)
    else:
        password = role_passwords(settings).ensure(runtime_role(service))
    return await upgrade_async(migrations, url, roles=True, password=password)
