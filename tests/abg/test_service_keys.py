"""`abg service-keys`: a key pair per known service, in the form production's settings take."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from abg.service_keys import service_key_environment
from shared.auth.principals import Principal, PrincipalKind
from shared.auth.tokens import mint_token, verify_token
from shared.errors import Unauthenticated
from shared.settings import PROJECT_ROOT, Settings

SECRETS = {"jwt_secret": "a-production-secret-of-at-least-thirty-two-bytes", "master_key": "A" * 43 + "=",
           "blind_index_key": "B" * 43 + "="}


def _settings(keys: dict[str, str], private: str | None = None) -> Settings:
    return Settings(env="production", service_public_keys=json.loads(keys["ABG_SERVICE_PUBLIC_KEYS"]),
                    service_private_key=private, **SECRETS)


def test_production_refuses_to_start_without_per_service_keys() -> None:
    with pytest.raises(ValueError, match="ABG_SERVICE_PUBLIC_KEYS"):
        Settings(env="production", **SECRETS)


def test_each_service_speaks_only_as_itself_with_the_generated_keys() -> None:
    keys = service_key_environment(["members", "points", "gateway"])
    verifier = _settings(keys)
    members = _settings(keys, keys["ABG_MEMBERS_SERVICE_PRIVATE_KEY"])
    points = _settings(keys, keys["ABG_POINTS_SERVICE_PRIVATE_KEY"])
    token = mint_token(PrincipalKind.SERVICE, "members", ttl_seconds=600, settings=members)
    assert verify_token(token, verifier) == Principal(PrincipalKind.SERVICE, "members")
    with pytest.raises(Unauthenticated, match="members"):  # points' key cannot sign for members
        verify_token(mint_token(PrincipalKind.SERVICE, "members", ttl_seconds=600, settings=points), verifier)


def test_the_command_prints_dotenv_lines_even_in_production() -> None:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("ABG_")} | {"ABG_ENV": "production"}
    done = subprocess.run([sys.executable, "-m", "abg", "service-keys"], cwd=PROJECT_ROOT, env=environment,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    lines = dict(line.split("=", 1) for line in done.stdout.splitlines())
    assert set(lines) == {"ABG_SERVICE_PUBLIC_KEYS"} | {
        f"ABG_{name.upper()}_SERVICE_PRIVATE_KEY" for name in ("gateway", "members", "points", "benefits", "redemptions")}
    assert all(value.startswith("'") and value.endswith("'") for value in lines.values())
    public = json.loads(lines["ABG_SERVICE_PUBLIC_KEYS"].strip("'"))
    assert len({pems[0] for pems in public.values()}) == 5  # a key of its own each


def test_abg_run_hands_each_service_its_own_key_and_no_other() -> None:
    from abg.run import signing_env

    keys = service_key_environment(["members", "points"])
    env = {"PATH": "/bin", "DATABASE_URL": "postgresql://admin@db/x", **keys}
    members = signing_env(env, "members")
    assert members["ABG_SERVICE_PRIVATE_KEY"] == keys["ABG_MEMBERS_SERVICE_PRIVATE_KEY"]
    others = [n for n in members if n.endswith(("_SERVICE_PRIVATE_KEY", "DATABASE_URL")) and n != "ABG_SERVICE_PRIVATE_KEY"]
    assert not others
    assert members["ABG_SERVICE_PUBLIC_KEYS"] == keys["ABG_SERVICE_PUBLIC_KEYS"] and members["PATH"] == "/bin"
    assert "ABG_SERVICE_PRIVATE_KEY" not in signing_env({k: v for k, v in env.items() if "MEMBERS" not in k}, "members")
