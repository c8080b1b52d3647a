"""Fixtures for the credentials tests."""

from tests.benefits.kit import database  # noqa: F401
