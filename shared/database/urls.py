"""Normalising database URLs: users give libpq-style URLs, SQLAlchemy wants a driver name."""

from __future__ import annotations

from sqlalchemy.engine import make_url


def to_async_url(url: str) -> str:
    """`postgres://…` or `postgresql://…` → `postgresql+asyncpg://…` (asyncpg is our only driver)."""
    parsed = make_url(url)
    if parsed.drivername in ("postgres", "postgresql", "postgresql+asyncpg"):
        return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)
    raise ValueError(f"only PostgreSQL is supported, got a {parsed.drivername!r} URL")


def to_libpq_url(url: str) -> str:
    """The plain `postgresql://` form, for asyncpg used directly (benchmarks) and for printing."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def with_database(url: str, database: str) -> str:
    """The same server and credentials, another database."""
    return make_url(url).set(database=database).render_as_string(hide_password=False)


def redact(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def with_credentials(url: str, user: str, password: str) -> str:
    """The same server and database, as another user."""
    return make_url(url).set(username=user, password=password).render_as_string(hide_password=False)
