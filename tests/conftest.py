"""Fixtures for the whole suite: a real PostgreSQL (embedded unless DATABASE_URL is set), with
every service's migrations applied."""

from __future__ import annotations

import pytest

from abg.services import SERVICES
from shared.database.migrations import Migrations

# pytester: tests of the database plugin run small pytest sessions of their own.
pytest_plugins = ["shared.database.testing", "pytester"]


@pytest.fixture(scope="session")
def service_migrations() -> list[Migrations]:
    """What the database fixtures migrate and empty: every service the launcher knows."""
    return [service.migrations for service in SERVICES]
