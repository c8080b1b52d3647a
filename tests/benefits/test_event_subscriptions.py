"""Who receives benefits' events by default, and that every type published is listed."""

from __future__ import annotations

import pytest

from services.benefits import events
from services.benefits.config import reset_benefits_settings_cache


def test_write_offs_go_to_redemptions_and_redemption_notices_to_partners_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ABG_BENEFITS_REDEMPTION_EVENT_SUBSCRIBERS", raising=False)
    monkeypatch.delenv("ABG_BENEFITS_EVENT_SUBSCRIBERS", raising=False)
    reset_benefits_settings_cache()
    found = events.subscriptions()
    assert found[events.CODE_WRITTEN_OFF] == found[events.CODE_WRITE_OFF_UNDONE] == (events.WEBHOOKS, "redemptions")
    assert found[events.BENEFIT_REDEEMED] == found[events.REDEMPTION_REFUNDED] == (events.WEBHOOKS,)
    assert found[events.PARTNER_STATUS_CHANGED] == ("points",)


def test_an_empty_setting_tells_no_service(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ABG_BENEFITS_REDEMPTION_EVENT_SUBSCRIBERS", "")
    reset_benefits_settings_cache()
    assert events.subscriptions()[events.CODE_WRITTEN_OFF] == (events.WEBHOOKS,)
