"""Fixtures for the webhooks tests."""

from tests.benefits.kit import database  # noqa: F401
