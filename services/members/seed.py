"""Demo members: a few dozen with varied tiers, activity and join dates (only into an empty table).

Deterministic: member i always has the same phone, name, join age, spend and activity, so a demo
script can rely on, say, +8613800000001 being a GOLD member. Join dates are relative to today so
every lifecycle stage is represented whenever the demo is started.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from shared.auth.principals import Principal, PrincipalKind
from shared.database import Database
from shared.demo import ensure_demo_allowed
from shared.timeutil import utcnow

from services.members.access import SYSTEM
from services.members.profiles import service as profiles
from services.members.profiles import store
from services.members.tiers import service as tiers
from services.members.tiers.answers import GrowthInput, GrowthKind

_SEEDER = SYSTEM  # registers as members itself
_OPERATOR = Principal(PrincipalKind.STAFF, "seed-operator", frozenset({"operator"}))
_NAMES = (
    "Li Wei", "Wang Fang", "Zhang Min", "Liu Yang", "Chen Jing", "Yang Lei", "Zhao Li", "Huang Qiang",
    "Zhou Xin", "Wu Hao", "Alice Martin", "Bob Keller", "Chloe Dubois", "Daniel Ito", "Eva Novak",
)
_CATEGORIES = (("video",), ("coffee", "dining"), ("travel",), ("video", "music"), ("fashion",), ())
# (days since joining, spend in yuan over the last months, days since last activity)
_PROFILES = (
    (20, 0, None),  # NEW, BASIC, no activity yet
    (45, 2400, 3),  # NEW, SILVER
    (150, 5600, 10),  # GROWING, GOLD
    (400, 12500, 2),  # MATURE, DIAMOND
    (500, 800, 200),  # AT_RISK, BASIC
    (250, 3000, 120),  # AT_RISK (spend long ago), SILVER
    (700, 7000, 30),  # MATURE, GOLD
    (90, 150, 60),  # GROWING, BASIC
)


async def seed_demo(db: Database, count: int = 40) -> list[uuid.UUID]:
    """Creates `count` members unless there are members already; returns the new ids."""
    ensure_demo_allowed()  # never in production
    async with db.session() as session:
        if await store.any_member(session):
            return []
    now = utcnow()
    ids: list[uuid.UUID] = []
    for i in range(count):
        age_days, spend_yuan, idle_days = _PROFILES[i % len(_PROFILES)]
        age_days += i  # spread join dates
        joined = now - timedelta(days=age_days)
        view = await profiles.register_member(
            db,
            _SEEDER,
            phone=f"+86138{i:08d}",
            display_name=f"{_NAMES[i % len(_NAMES)]} {i}",
            email=f"member{i}@example.com" if i % 3 else None,
            birthday=f"{(i % 12) + 1:02d}-{(i * 7) % 28 + 1:02d}",
            joined_at=joined,
        )
        ids.append(view.id)
        categories = _CATEGORIES[i % len(_CATEGORIES)]
        if categories:
            await profiles.update_preferences(db, _OPERATOR, view.id, categories=categories)
        if spend_yuan:
            # Spend in three purchases; the last one `idle_days` ago (never before joining).
            last = now - timedelta(days=min(idle_days or 0, age_days))
            for k, share in enumerate((0.5, 0.3, 0.2)):
                at = max(last - timedelta(days=(2 - k) * 7), joined)
                await tiers.record_growth(
                    db,
                    _SEEDER,
                    GrowthInput(
                        event_id=f"seed-purchase-{i}-{k}",
                        member_id=view.id,
                        kind=GrowthKind.PURCHASE,
                        occurred_at=at,
                        amount_minor=int(spend_yuan * share) * 100,
                        currency="CNY",
                    ),
                    now=now,
                )
        if i % 10 == 9:
            await profiles.suspend_member(db, _OPERATOR, view.id, "demo: suspended for review")
    return ids
