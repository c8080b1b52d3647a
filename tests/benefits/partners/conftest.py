"""Fixtures for the partner registry tests."""

from tests.benefits.kit import database  # noqa: F401
