"""The `abg` command: each subcommand does what the README says."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from abg.cli import main
from shared.auth.principals import Principal, PrincipalKind
from shared.auth.tokens import verify_token
from shared.settings import get_settings


@pytest.fixture(autouse=True)
def own_logging_and_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The command sets up logging on the runner's streams and may default ABG_ENV: undo both after."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    monkeypatch.setenv("ABG_ENV", "development")
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_help_lists_every_command() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in ("run", "serve", "migrate", "seed", "token", "sdl", "db-revision"):
        assert f"  {command} " in result.output


def test_token_prints_a_token_the_services_accept() -> None:
    result = CliRunner().invoke(main, ["token", "--kind", "staff", "--subject", "ops", "--role", "operator"])
    assert result.exit_code == 0, result.output
    assert verify_token(result.output.strip(), get_settings()) == Principal(
        PrincipalKind.STAFF, "ops", frozenset({"operator"})
    )


def test_sdl_prints_a_subgraphs_federation_sdl() -> None:
    result = CliRunner().invoke(main, ["sdl", "points"])
    assert result.exit_code == 0, result.output
    assert "@key" in result.output and "federation/v2" in result.output


def test_unknown_service_names_are_refused() -> None:
    result = CliRunner().invoke(main, ["sdl", "loyalty"])
    assert result.exit_code == 2 and "members" in result.output and "points" in result.output


def test_migrate_applies_every_history_and_is_idempotent(database_url: str) -> None:
    result = CliRunner().invoke(main, ["migrate"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["members: migrated", "points: migrated", "benefits: migrated", "redemptions: migrated"]
