"""Demo data is for a developer's machine: seeds refuse to run where it would pass for real data."""

from __future__ import annotations

from collections.abc import Collection

from shared.settings import get_settings


class DemoDataRefused(RuntimeError):
    """Demo data was asked for in an environment that must not have any; the message says why."""


def ensure_demo_allowed(allowed: Collection[str] = ("development", "test")) -> None:
    """Raises `DemoDataRefused` unless ABG_ENV is one of `allowed` (the test suite seeds too)."""
    env = get_settings().env
    if env not in allowed:
        only = " or ".join(f"ABG_ENV={name}" for name in allowed)
        raise DemoDataRefused(f"demo data is seeded only when {only} (ABG_ENV is {env})")
