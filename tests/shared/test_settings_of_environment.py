"""The settings another process reads, computed without touching this process's environment."""

from __future__ import annotations

import os

from shared.settings import settings_of_environment


def test_the_settings_of_a_given_environment_and_ours_left_alone() -> None:
    before = dict(os.environ)
    theirs = settings_of_environment({"ABG_ENV": "test", "ABG_GATEWAY_PORT": "4999", "ABG_JWT_SECRET": "x" * 40})
    assert (theirs.env, theirs.gateway_port, theirs.jwt_secret) == ("test", 4999, "x" * 40)
    assert dict(os.environ) == before
