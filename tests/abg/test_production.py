"""`ABG_ENV=production` through the launcher: no demo data, no demo platform, no development tokens,
and refusals that are one line on stderr with a non-zero status, never a traceback."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from service_keys_env import public_keys
from click.testing import CliRunner

from abg.cli import main
from shared.demo import DemoDataRefused
from shared.settings import reset_settings_cache

SECRETS = {
    **public_keys(),
    "ABG_JWT_SECRET": "a-real-secret-for-this-test-0123456789abcdef",
    "ABG_MASTER_KEY": "MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE=",
    "ABG_BLIND_INDEX_KEY": "YWJjZGVmYWJjZGVmYWJjZGVmYWJjZGVmYWJjZGVmMDE=",
}
GATEWAY = ("ABG_GATEWAY_EXPLORER", "ABG_GATEWAY_METRICS", "ABG_METRICS_TOKEN", "ABG_GATEWAY_METRICS_TOKEN")


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    for name in GATEWAY:
        monkeypatch.delenv(name, raising=False)
    yield monkeypatch
    monkeypatch.undo()
    reset_settings_cache()
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def production(environment: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    environment.setenv("ABG_ENV", "production")
    for name, value in SECRETS.items():
        environment.setenv(name, value)
    reset_settings_cache()
    return environment


def _refused(args: list[str], *expected: str) -> None:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit) and "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for part in expected:
        assert part in lines[0]
    assert result.stdout == ""


def test_no_development_tokens_in_production(production: pytest.MonkeyPatch) -> None:
    _refused(["token", "--kind", "staff", "--subject", "ops", "--role", "operator"], "ABG_ENV=production")


def test_production_with_development_secrets_is_one_line(environment: pytest.MonkeyPatch) -> None:
    environment.setenv("ABG_ENV", "production")
    for name in SECRETS:
        environment.delenv(name, raising=False)
    reset_settings_cache()
    _refused(["token", "--kind", "service", "--subject", "points"], "ABG_JWT_SECRET", "ABG_MASTER_KEY", "ABG_BLIND_INDEX_KEY")


def test_token_mistakes_are_one_line(environment: pytest.MonkeyPatch) -> None:
    environment.setenv("ABG_ENV", "development")
    reset_settings_cache()
    _refused(["token", "--kind", "member", "--subject", "not-a-uuid"], "must be a UUID")


@pytest.mark.parametrize("env", ["production", "test"])
def test_abg_seed_refuses_outside_development(environment: pytest.MonkeyPatch, env: str) -> None:
    environment.setenv("ABG_ENV", env)
    for name, value in SECRETS.items():
        environment.setenv(name, value)
    reset_settings_cache()
    _refused(["seed"], "ABG_ENV=development", f"ABG_ENV is {env}")


async def test_seeds_refuse_in_production(production: pytest.MonkeyPatch) -> None:
    from abg.seed import seed_all
    from services.members.seed import seed_demo

    with pytest.raises(DemoDataRefused, match="development"):
        await seed_all("postgresql://nowhere.invalid/none")
    with pytest.raises(DemoDataRefused, match="production"):
        await seed_demo(None)  # type: ignore[arg-type] - refused before the database is touched


def test_the_demo_video_platform_refuses_production(production: pytest.MonkeyPatch) -> None:
    from abg.demo.video_platform import main as video_main

    with pytest.raises(SystemExit, match="ABG_ENV=production"):
        video_main()


def test_the_production_banner_offers_no_token_command_explorer_or_open_metrics(
    production: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from abg.run import _print_banner

    _print_banner("http://127.0.0.1:4000/graphql")
    out = capsys.readouterr().out
    assert "abg token" not in out and "/explorer" not in out and "/metrics" not in out
    assert "http://127.0.0.1:4000/graphql" in out
    production.setenv("ABG_METRICS_TOKEN", "t0ken")
    _print_banner("http://127.0.0.1:4000/graphql")
    assert "/metrics   (Authorization: Bearer <metrics token>)" in capsys.readouterr().out


def test_the_development_banner_offers_them(environment: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from abg.run import _print_banner

    environment.setenv("ABG_ENV", "development")
    reset_settings_cache()
    _print_banner("http://127.0.0.1:4000/graphql")
    out = capsys.readouterr().out
    assert "abg token --kind staff" in out and "/explorer" in out and "/metrics" in out


def test_abg_sdl_still_prints_the_sdl_in_production(production: pytest.MonkeyPatch) -> None:
    # in process, not a caller from the network: `_service` is refused only to callers that are not services
    result = CliRunner().invoke(main, ["sdl", "points"])
    assert result.exit_code == 0, result.output
    assert "@key" in result.output
