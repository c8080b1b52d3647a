"""The demo partners: points' demo partners, with the same ids, names and currency."""

from __future__ import annotations

import pytest

from shared.database import Database

from services.benefits import seed
from services.benefits.events import PARTNER_STATUS_CHANGED
from services.benefits.partners import service
from services.benefits.partners.rules import PartnerRole, PartnerStatus
from services.points.seed import DEMO_PARTNERS as POINTS_DEMO_PARTNERS
from services.points.seed import demo_partner_id as points_demo_id
from tests.benefits.kit import OPERATOR, published, register


async def test_the_demo_partners_are_points_demo_partners(database: Database) -> None:
    created = await seed.seed_demo(database)
    assert created == [points_demo_id(slug) for slug, *_ in POINTS_DEMO_PARTNERS]
    views = {v.id: v for v in await service.load_partners(database, OPERATOR, created)}  # type: ignore[union-attr]
    for slug, name, currency, *_ in POINTS_DEMO_PARTNERS:
        view = views[points_demo_id(slug)]
        assert (view.name, view.currency, view.status) == (name, currency, PartnerStatus.ACTIVE)
        assert PartnerRole.EARNING in (view.roles or ())
        assert (PartnerRole.REDEMPTION in (view.roles or ())) == (slug != "sunrise-coffee")
    assert views[points_demo_id("streambox")].fulfilment_url == seed.demo_video_platform_url()
    events = await published(database, PARTNER_STATUS_CHANGED)
    assert sorted(e["partnerId"] for e in events) == sorted(str(i) for i in created)
    assert all(e["status"] == "ACTIVE" and e["_subscribers"] == ["points"] for e in events)


async def test_seeding_again_or_over_existing_partners_does_nothing(database: Database) -> None:
    assert len(await seed.seed_demo(database)) == 4
    assert await seed.seed_demo(database) == []


async def test_no_demo_partners_once_someone_is_registered(database: Database) -> None:
    await register(database)
    assert await seed.seed_demo(database) == []


async def test_the_runner_seeds_benefits_with_the_other_services(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from abg.seed import seed_all
    from shared.settings import reset_settings_cache

    monkeypatch.setenv("ABG_ENV", "development")  # the runner seeds nowhere else
    reset_settings_cache()
    try:
        seeded = await seed_all(db)
    finally:
        monkeypatch.undo()
        reset_settings_cache()
    assert seeded["benefits"] == [points_demo_id(slug) for slug, *_ in POINTS_DEMO_PARTNERS]
    assert seeded["points"] == seeded["benefits"]


async def test_streambox_is_fulfilled_wherever_the_demo_video_platform_listens(database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ABG_DEMO_VIDEO_HOST", raising=False)
    monkeypatch.setenv("ABG_DEMO_VIDEO_PORT", "14010")
    await seed.seed_demo(database)
    (view,) = await service.load_partners(database, OPERATOR, [points_demo_id("streambox")])  # type: ignore[misc]
    assert view.fulfilment_url == "http://127.0.0.1:14010"
    assert seed.demo_video_platform_url({}) == "http://127.0.0.1:4010"  # the demo platform's own default
    assert seed.demo_video_platform_url({"ABG_DEMO_VIDEO_HOST": "0.0.0.0", "ABG_DEMO_VIDEO_PORT": "4011"}) == "http://127.0.0.1:4011"
