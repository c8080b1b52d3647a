"""The demo catalogue: benefits of the demo partners, with budgets (only into an empty catalogue).

Partner ids are the ones every service's demo data uses, uuid5 of `abg:partner:<slug>`; benefit ids
are uuid5 of `abg:benefit:<slug>`, so other demo data (code pools, say) can name them. Partners
that are not registered yet are skipped. Everything goes through the service layer, as an operator.
Prices: members earn about 1 point per ¥1 at the demo partners, and a point is worth about ¥0.01
to them here (a ¥20 voucher for 2,000 points); partners are paid a little under face value.
Every demo benefit may be refunded to the member within a week of its redemption, if unused.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from services.benefits.catalogue import budgets, service, store
from shared.auth.principals import Principal, PrincipalKind
from shared.database import Database
from shared.timeutil import utcnow

SEEDER = Principal(PrincipalKind.STAFF, "demo-seed", frozenset({"operator"}))


def demo_partner_id(slug: str) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"abg:partner:{slug}")


def demo_benefit_id(slug: str) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"abg:benefit:{slug}")


def _voucher(title: str, points: int, face: int, settle: int, **extra: Any) -> dict[str, Any]:
    return {"kind": "VOUCHER", "title": title, "points_price": points, "face_value_minor": face,
            "settlement_minor": settle, "currency": "CNY", **extra}


# (slug, partner slug, columns, monthly budget of the benefit in fen or None)
DEMO_BENEFITS: tuple[tuple[str, str, dict[str, Any], int | None], ...] = (
    ("metro-mart-20", "metro-mart", _voucher(
        "Metro Mart ¥20 voucher", 2000, 2000, 1800, validity_days=30, categories=["grocery"], tags=["voucher", "everyday"],
        description="¥20 off any purchase of ¥100 or more at Metro Mart stores.",
        terms="One voucher per purchase. Not exchangeable for cash.", limit_per_month=4), 500_000),
    ("metro-mart-50", "metro-mart", _voucher(
        "Metro Mart ¥50 voucher", 4800, 5000, 4500, validity_days=60, categories=["grocery"], tags=["voucher"],
        description="¥50 off any purchase of ¥200 or more at Metro Mart stores.",
        terms="One voucher per purchase. Not exchangeable for cash.", limit_per_month=2), 500_000),
    ("metro-mart-birthday", "metro-mart", _voucher(
        "Birthday treat: Metro Mart ¥10 voucher", 0, 1000, 1000, validity_days=31, birthday_perk=True,
        categories=["grocery"], tags=["birthday", "gift"],
        description="Happy birthday from Metro Mart: ¥10 off, free, in your birthday month."), 100_000),
    ("skyline-air-lounge", "skyline-air", _voucher(
        "Skyline Air lounge pass", 18000, 20000, 15000, validity_days=180, min_tier="GOLD", categories=["travel"],
        tags=["lounge", "airport"], description="One visit to any Skyline Air lounge before a Skyline Air flight.",
        terms="Show the code with your boarding pass. One guest not included.", limit_per_month=2), 3_000_000),
    ("skyline-air-bag", "skyline-air", _voucher(
        "Skyline Air extra bag (23 kg)", 9000, 12000, 8000, validity_days=365, categories=["travel"], tags=["baggage"],
        description="One extra checked bag of up to 23 kg on a Skyline Air flight.", limit_lifetime=6), None),
    ("streambox-30", "streambox", {
        "kind": "VIDEO_MEMBERSHIP", "delivery": "RECHARGE", "title": "StreamBox 30-day membership", "points_price": 1500,
        "settlement_minor": 1200, "currency": "CNY", "platform": "streambox", "duration_days": 30,
        "categories": ["video"], "tags": ["membership", "streaming"], "limit_per_month": 1,
        "description": "30 days of StreamBox Premium, added straight to your StreamBox account."}, 300_000),
    ("streambox-7", "streambox", {
        "kind": "VIDEO_MEMBERSHIP", "delivery": "CODE", "title": "StreamBox 7-day pass (activation code)",
        "points_price": 400, "settlement_minor": 300, "currency": "CNY", "platform": "streambox", "duration_days": 7,
        "categories": ["video"], "tags": ["trial", "streaming"], "limit_lifetime": 3,
        "description": "A code for 7 days of StreamBox Premium: redeem it in the StreamBox app."}, None),
)

# Days after a redemption in which a demo member may ask for its refund (every demo benefit).
DEMO_REFUND_WINDOW_DAYS = 7

# Monthly budget of all of a demo partner's benefits, in fen.
DEMO_PARTNER_BUDGETS = {"metro-mart": 2_000_000, "skyline-air": 6_000_000, "streambox": 1_000_000}


async def seed_catalogue(db: Database) -> list[uuid.UUID]:
    """Creates, activates and budgets the demo benefits unless the catalogue has any; returns their ids."""
    async with db.engine.connect() as connection:
        if await store.count(connection):
            return []
        registered = {slug for slug in DEMO_PARTNER_BUDGETS if await store.partner(connection, demo_partner_id(slug)) is not None}
    created: list[uuid.UUID] = []
    now = utcnow()
    for slug, partner_slug, columns, budget in DEMO_BENEFITS:
        if partner_slug not in registered:
            continue
        partner_id = demo_partner_id(partner_slug)
        benefit = await service.create_benefit(
            db, SEEDER, partner_id, {"refund_window_days": DEMO_REFUND_WINDOW_DAYS, **columns, "available_from": now - timedelta(days=1)},
            benefit_id=demo_benefit_id(slug), now=now,
        )
        await service.set_benefit_status(db, SEEDER, benefit.id, "ACTIVE", now)
        if budget is not None:
            await budgets.set_budget(db, SEEDER, budgets.BudgetInput(limit_minor=budget, currency="CNY", benefit_id=benefit.id), now)
        created.append(benefit.id)
    for partner_slug, limit in DEMO_PARTNER_BUDGETS.items():
        if partner_slug in registered:
            await budgets.set_budget(
                db, SEEDER, budgets.BudgetInput(limit_minor=limit, currency="CNY", partner_id=demo_partner_id(partner_slug)), now
            )
    return created
