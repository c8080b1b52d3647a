"""Fixtures for the benefits tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from services.benefits.config import reset_benefits_settings_cache


@pytest.fixture(autouse=True)
def benefits_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No background loops in tests: each test drives jobs itself."""
    monkeypatch.setenv("ABG_BENEFITS_JOB_INTERVAL_SECONDS", "0")
    reset_benefits_settings_cache()
    yield
    reset_benefits_settings_cache()
