"""Fixtures of the recharge delivery tests: quick retries, and a video partner with its benefit."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from shared.database import Database

from services.benefits.config import reset_benefits_settings_cache
from services.benefits.partner_http import aclose_partner_client
from tests.benefits.delivery.delivery_kit import Video, video_partner
from tests.benefits.kit import database  # noqa: F401


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Backoff in milliseconds, so a storm of retries takes no time (the bounds stay the defaults)."""
    monkeypatch.setenv("ABG_BENEFITS_RECHARGE_RETRY_BASE_SECONDS", "0.001")
    monkeypatch.setenv("ABG_BENEFITS_RECHARGE_RETRY_MAX_SECONDS", "0.004")
    reset_benefits_settings_cache()
    yield
    reset_benefits_settings_cache()


@pytest.fixture
async def video(database: Database) -> AsyncIterator[Video]:  # noqa: F811
    yield await video_partner(database)
    await aclose_partner_client()
