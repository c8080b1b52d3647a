"""The project's command line: `abg run | serve | migrate | seed | token | sdl | db-revision`."""

from __future__ import annotations

import asyncio
import os
import sys

import click

from abg.services import get_service, service_names


class _Commands(click.Group):
    """Expected failures (settings refused, a production refusal, an unknown name) end the command
    with one line on stderr and status 1, not a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        from pydantic import ValidationError

        from shared.demo import DemoDataRefused

        try:
            return super().invoke(ctx)
        except ValidationError as error:  # the settings: the environment is wrong
            problems = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in error.errors())
            raise click.ClickException(f"settings: {problems}") from None
        except (ValueError, LookupError, DemoDataRefused) as error:
            message = error.args[0] if isinstance(error, KeyError) and error.args else error
            raise click.ClickException(" ".join(str(message).split())) from None


@click.group(cls=_Commands)
@click.option("--log-level", default=None, help="Overrides ABG_LOG_LEVEL.")
def main(log_level: str | None) -> None:
    """Alliance Benefits Graph."""
    from shared.log_setup import configure_logging

    if click.get_current_context().invoked_subcommand == "service-keys":
        return  # makes the keys production's settings demand: it must not read those settings first
    configure_logging(log_level)


@main.command()
@click.option("--no-seed", is_flag=True, help="Do not seed demo data into an empty database.")
def run(no_seed: bool) -> None:
    """Start everything: embedded PostgreSQL, every subgraph, the gateway."""
    from abg.run import run_all
    from shared.database.roles import RolesMissing

    try:
        sys.exit(run_all(seed=not no_seed))
    except RolesMissing as error:
        raise click.ClickException(str(error)) from error


@main.command()
@click.argument("service", type=click.Choice(service_names()))
@click.option("--port", type=int, default=None)
@click.option("--host", default=None)
def serve(service: str, port: int | None, host: str | None) -> None:
    """Serve one subgraph (its database: DATABASE_URL, or the embedded server)."""
    import uvicorn

    from shared.settings import get_settings

    os.environ.setdefault("ABG_SERVICE_NAME", service)
    settings = get_settings()
    uvicorn.run(
        get_service(service).app,
        host=host or settings.host,
        port=port or settings.port_of(service),
        workers=settings.workers_per_service,
        loop="uvloop",
        http="httptools",
        access_log=False,
    )


def _database_url(service: str) -> str:
    """The admin URL (migrations, seeds, revisions), not the service's runtime role."""
    from shared.database.resolve import admin_database_url_for

    return asyncio.run(admin_database_url_for(service))


@main.command()
@click.argument("services", nargs=-1, type=click.Choice(service_names()))
def migrate(services: tuple[str, ...]) -> None:
    """Apply migrations (all services by default), creating or checking the database roles."""
    from shared.database.resolve import migrate_service
    from shared.database.roles import RolesMissing

    for name in services or service_names():
        try:
            notes = asyncio.run(migrate_service(name, get_service(name).migrations))
        except RolesMissing as error:
            raise click.ClickException(f"{name}: {error}") from error
        for note in notes:
            click.echo(f"{name}: {note}")
        click.echo(f"{name}: migrated")


@main.command()
def seed() -> None:
    """Seed demo data into empty service tables (demo purchases need the services up: `abg run` records them)."""
    from abg.seed import describe_seeded, seed_and_close
    from shared.demo import ensure_demo_allowed

    ensure_demo_allowed(("development",))  # before a database is resolved or started
    url = _database_url(service_names()[0])
    click.echo(describe_seeded(asyncio.run(seed_and_close(url))) or "nothing to seed (data already there)")


@main.command(name="db-revision")
@click.argument("service", type=click.Choice(service_names()))
@click.option("-m", "--message", required=True)
def db_revision(service: str, message: str) -> None:
    """Write a new migration for SERVICE from its models (autogenerate)."""
    from shared.database.migrations import revision

    revision(get_service(service).migrations, _database_url(service), message)


@main.command()
@click.option("--kind", type=click.Choice(["member", "partner", "staff", "service"]), required=True)
@click.option("--subject", required=True, help="Member id, partner id, staff user id or service name.")
@click.option("--role", "roles", multiple=True, help="Staff role: operator or customer_service.")
@click.option("--ttl", type=int, default=3600, show_default=True, help="Seconds until it expires.")
def token(kind: str, subject: str, roles: tuple[str, ...], ttl: int) -> None:
    """Mint a development bearer token."""
    from abg.dev_tokens import mint_dev_token

    click.echo(mint_dev_token(kind, subject, roles, ttl))


@main.command(name="service-keys")
def service_keys() -> None:
    """Print a new signing key pair per known service, as .env lines (production needs them)."""
    from abg.service_keys import as_dotenv, service_key_environment
    from shared.settings import Settings

    # Not get_settings(): production refuses to start without these very keys.
    known = os.environ.get("ABG_KNOWN_SERVICES") or Settings.model_fields["known_services"].default
    click.echo(as_dotenv(service_key_environment(n.strip() for n in known.split(",") if n.strip())), nl=False)


@main.command()
@click.argument("service", type=click.Choice(service_names()))
def sdl(service: str) -> None:
    """Print a subgraph's federation SDL (what `_service { sdl }` answers)."""
    os.environ.setdefault("ABG_ENV", "development")
    schema = get_service(service).federation_schema()
    result = schema.execute_sync("{ _service { sdl } }")
    if result.errors:
        raise click.ClickException(str(result.errors))
    click.echo(result.data["_service"]["sdl"])


if __name__ == "__main__":
    main()
