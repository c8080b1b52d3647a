"""Fixtures for the whole suite: a real PostgreSQL (embedded unless DATABASE_URL is set)."""

pytest_plugins = ["shared.database.testing"]
