"""Bad input is refused before any transaction, naming the field; nothing is written."""

from __future__ import annotations

from typing import Any

import pytest
from service_keys_env import public_keys

from shared.database import Database
from shared.errors import InvalidInput
from shared.settings import reset_settings_cache

from services.benefits.events import PARTNER_STATUS_CHANGED
from services.benefits.partners import rules, service
from services.benefits.partners.answers import PartnerDraft, ProfileChanges
from tests.benefits.kit import OPERATOR, published, register

GOOD: dict[str, Any] = {"name": "Metro Mart", "brand": "Metro", "roles": ["EARNING"], "currency": "CNY"}

BAD_DRAFTS = [
    ({"name": ""}, "name"),
    ({"name": "   "}, "name"),
    ({"name": "x" * 101}, "name"),
    ({"name": "x" * 100_000}, "name"),
    ({"name": "Metro\x00Mart"}, "name"),
    ({"name": 42}, "name"),
    ({"brand": "b\u200bx"}, "brand"),  # a zero-width (format) character
    ({"roles": []}, "roles"),
    ({"roles": ["EARNING", "SPENDING"]}, "roles"),
    ({"currency": "cny"}, "currency"),
    ({"currency": "CNYY"}, "currency"),
    ({"id": "not-a-uuid"}, "id"),
    ({"contact_email": "no-at-sign"}, "contact.email"),
    ({"contact_email": "a@b.c" + "x" * 300}, "contact.email"),
    ({"contact_name": "n" * 101}, "contact.name"),
    ({"categories": ["ok"] * 21}, "categories"),
    ({"categories": ["not a slug"]}, "categories"),
    ({"categories": ["x" * 33]}, "categories"),
    ({"categories": [7]}, "categories"),
    ({"logo_url": "ftp://cdn.example/logo.png"}, "logoUrl"),
    ({"logo_url": "javascript:alert(1)"}, "logoUrl"),
    ({"webhook_url": "https://"}, "webhookUrl"),
    ({"webhook_url": "https://user:pw@metro.example/hooks"}, "webhookUrl"),
    ({"webhook_url": "https://metro.example/hooks#x"}, "webhookUrl"),
    ({"webhook_url": "https://metro.example/a b"}, "webhookUrl"),
    ({"webhook_url": "https://metro.example:99999/"}, "webhookUrl"),
    ({"webhook_url": "https://metro.example/" + "a" * 500}, "webhookUrl"),
    ({"fulfilment_url": "mailto:ops@metro.example"}, "fulfilmentUrl"),
    ({"fulfilment_url": "//metro.example/recharge"}, "fulfilmentUrl"),
]


@pytest.mark.parametrize(("overrides", "field"), BAD_DRAFTS)
async def test_a_bad_registration_names_the_field_and_writes_nothing(database: Database, overrides: dict, field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        await service.register_partner(database, OPERATOR, PartnerDraft(**{**GOOD, **overrides}))
    assert refused.value.extensions["field"] == field
    assert await published(database, PARTNER_STATUS_CHANGED) == []


BAD_CHANGES = [
    (ProfileChanges(name=None), "name"),  # a name cannot be cleared
    (ProfileChanges(brand=""), "brand"),
    (ProfileChanges(roles=[]), "roles"),
    (ProfileChanges(webhook_url="http://metro.example/" + "h" * 600), "webhookUrl"),
    (ProfileChanges(categories=["UPPER CASE"]), "categories"),
]


@pytest.mark.parametrize(("changes", "field"), BAD_CHANGES)
async def test_a_bad_profile_change_names_the_field_and_changes_nothing(database: Database, changes: ProfileChanges, field: str) -> None:
    partner = await register(database)
    with pytest.raises(InvalidInput) as refused:
        await service.update_partner(database, OPERATOR, partner.id, changes)
    assert refused.value.extensions["field"] == field
    assert (await service.get_partner(database, OPERATOR, partner.id)).version == partner.version


async def test_a_suspension_needs_a_reason(database: Database) -> None:
    partner = await register(database)
    for reason in ("", "  ", "r" * 501):
        with pytest.raises(InvalidInput) as refused:
            await service.suspend_partner(database, OPERATOR, partner.id, reason)
        assert refused.value.extensions["field"] == "reason"


def test_urls_in_development_and_production() -> None:
    dev = {"production": False, "endpoint": True}
    prod = {"production": True, "endpoint": True}
    assert rules.clean_url(" http://127.0.0.1:4010 ", "u", **dev) == "http://127.0.0.1:4010"
    assert rules.clean_url("", "u", **dev) is None and rules.clean_url(None, "u", **dev) is None
    assert rules.clean_url("https://hooks.metro.example/in?x=1", "u", **prod) == "https://hooks.metro.example/in?x=1"
    for refused in ("http://hooks.metro.example/in", "https://localhost/in", "https://10.0.0.8/in", "https://[::1]/in",
                    "https://169.254.169.254/latest", "https://db.internal/x"):
        with pytest.raises(InvalidInput):
            rules.clean_url(refused, "u", **prod)
    # A logo is only shown, never called: a private address is the client's business.
    assert rules.clean_url("https://10.0.0.8/logo.png#top", "u", production=True, endpoint=False) == "https://10.0.0.8/logo.png#top"


async def test_production_takes_https_endpoints_only(database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ABG_ENV", "production")
    monkeypatch.setenv("ABG_JWT_SECRET", "a-real-secret-for-this-test")
    monkeypatch.setenv("ABG_MASTER_KEY", "MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE=")
    monkeypatch.setenv("ABG_BLIND_INDEX_KEY", "YWJjZGVmYWJjZGVmYWJjZGVmYWJjZGVmYWJjZGVmMDE=")
    monkeypatch.setenv("ABG_SERVICE_PUBLIC_KEYS", public_keys()["ABG_SERVICE_PUBLIC_KEYS"])
    reset_settings_cache()
    try:
        with pytest.raises(InvalidInput) as refused:
            await service.register_partner(database, OPERATOR, PartnerDraft(**GOOD, webhook_url="http://metro.example/hooks"))
        assert refused.value.extensions["field"] == "webhookUrl"
        view = await service.register_partner(database, OPERATOR, PartnerDraft(**GOOD, webhook_url="https://metro.example/hooks"))
        assert view.webhook_url == "https://metro.example/hooks"
    finally:
        monkeypatch.undo()
        reset_settings_cache()
