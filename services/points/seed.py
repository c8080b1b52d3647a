"""Demo partner programmes (only into an empty partners table).

Partner ids are deterministic — uuid5 of `abg:partner:<slug>` in the URL namespace — so the other
services' demo data can name the same brands. Members earn their first demo points once points has
heard of them (members' TierChanged events open their accounts) and a partner records purchases.
"""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from services.points.config import get_points_settings
from services.points.models import partners_t
from services.points.partners import set_partner
from shared.database import Database

# slug, name, currency, points per 100 minor units, return window (days), expiry (months), cost per point
DEMO_PARTNERS = (
    ("sunrise-coffee", "Sunrise Coffee", "CNY", 2, 0, 24, 1),
    ("metro-mart", "Metro Mart", "CNY", 1, 7, 36, 1),
    ("skyline-air", "Skyline Air", "CNY", 1, 14, 36, 2),
    ("streambox", "StreamBox Video", "CNY", 1, 0, 36, 1),
)


def demo_partner_id(slug: str) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"abg:partner:{slug}")


async def seed_demo(db: Database) -> list[uuid.UUID]:
    """Registers the demo partners' programmes unless some partner is registered; returns their ids."""
    async with db.engine.connect() as connection:
        if (await connection.execute(select(func.count()).select_from(partners_t))).scalar_one():
            return []
    settings = get_points_settings()
    created = []
    for slug, name, currency, earn_points, window, months, cost in DEMO_PARTNERS:
        program = await set_partner(
            db, settings, partner_id=demo_partner_id(slug), currency=currency, name=name, earn_points=earn_points,
            earn_per_minor=100, return_window_days=window, expiry_months=months, cost_per_point_minor=cost,
        )
        created.append(program.id)
    return created
