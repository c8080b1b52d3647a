"""The demo catalogue: believable benefits of the demo partners, active and budgeted, seeded once."""

from __future__ import annotations

import uuid

from catalogue_kit import OPERATOR

from services.benefits.catalogue import budgets, eligibility, service
from services.benefits.catalogue.rules import MemberFacts
from services.benefits.catalogue.seed import DEMO_BENEFITS, demo_benefit_id, demo_partner_id, seed_catalogue
from shared.timeutil import utcnow


async def test_the_demo_catalogue(kit) -> None:  # noqa: ANN001
    for slug in ("metro-mart", "skyline-air", "streambox"):
        await kit.partner(partner_id=demo_partner_id(slug))
    assert demo_partner_id("metro-mart") == uuid.uuid5(uuid.NAMESPACE_URL, "abg:partner:metro-mart")
    created = await seed_catalogue(kit.db)
    assert created == [demo_benefit_id(slug) for slug, *_ in DEMO_BENEFITS]
    assert await seed_catalogue(kit.db) == []  # once only
    views = {v.id: v for v in await service.load_benefits(kit.db, OPERATOR, created) if v}
    assert all(v.status == "ACTIVE" for v in views.values())
    lounge, birthday = views[demo_benefit_id("skyline-air-lounge")], views[demo_benefit_id("metro-mart-birthday")]
    assert lounge.min_tier == "GOLD" and birthday.birthday_perk and birthday.points_price == 0
    recharge = views[demo_benefit_id("streambox-30")]
    assert (recharge.delivery, recharge.stock_total, recharge.redeemable_now) == ("RECHARGE", None, True)
    assert views[demo_benefit_id("streambox-7")].delivery == "CODE"
    found = await budgets.budgets_for(kit.db, OPERATOR, [(demo_partner_id("metro-mart"), None), (lounge.partner_id, lounge.id)])
    assert [b.limit_minor if b else None for b in found] == [2_000_000, 3_000_000]
    member = MemberFacts(uuid.uuid4(), "SILVER", "ACTIVE", utcnow().month, ("video",))
    page = await eligibility.eligible_benefits(kit.db, OPERATOR, member, first=20)
    verdicts = {e.benefit.title: [r.value for r in e.reasons] for e in page.rows}
    assert verdicts["Skyline Air lounge pass"] == ["TIER_TOO_LOW", "OUT_OF_STOCK"]  # GOLD only; no codes uploaded yet
    assert verdicts["StreamBox 30-day membership"] == [] and page.rows[0].benefit.title.startswith("StreamBox")


async def test_partners_not_registered_yet_are_skipped(kit) -> None:  # noqa: ANN001
    await kit.partner(partner_id=demo_partner_id("streambox"))
    created = await seed_catalogue(kit.db)
    assert created == [demo_benefit_id("streambox-30"), demo_benefit_id("streambox-7")]
