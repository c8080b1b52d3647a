"""Demo partner programmes (only into an empty partners table).

Partner ids are deterministic — uuid5 of `abg:partner:<slug>` in the URL namespace — so the other
services' demo data can name the same brands. Once every service is up (`seed_live`), the demo
partners record purchases of the members seeded on the same start, through points' own GraphQL API
with their own partner tokens, exactly as a partner integration would: so the demo graph shows
balances, lots and pending points rather than empty accounts.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from services.points import access
from services.points.partners import service as partners
from shared.auth.tokens import mint_token
from shared.database import Database
from shared.demo import ensure_demo_allowed
from shared.http import get_http_client
from shared.settings import get_settings
from shared.timeutil import utcnow

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
    ensure_demo_allowed()  # never in production
    if await partners.any_registered(db, access.SYSTEM):
        return []
    created = []
    for slug, name, currency, earn_points, window, months, cost in DEMO_PARTNERS:
        program = await partners.set_programme(
            db, access.SYSTEM, partner_id=demo_partner_id(slug), currency=currency, name=name, earn_points=earn_points,
            earn_per_minor=100, return_window_days=window, expiry_months=months, cost_per_point_minor=cost,
        )
        created.append(program.id)
    return created


_RECORD = """
mutation DemoPurchases($purchases: [PurchaseInput!]!) {
  recordPurchases(purchases: $purchases) { index error { code } }
}
"""


def demo_purchases(member_ids: Sequence[uuid.UUID]) -> dict[str, list[dict[str, Any]]]:
    """One to three purchases per member, spread over the partners and the last 30 days (by partner)."""
    now = utcnow()
    by_partner: dict[str, list[dict[str, Any]]] = {}
    for index, member_id in enumerate(member_ids):
        for n in range(1 + index % 3):
            slug, _, currency, *_ = DEMO_PARTNERS[(index + n) % len(DEMO_PARTNERS)]
            by_partner.setdefault(slug, []).append(
                {
                    "partnerId": str(demo_partner_id(slug)),
                    "memberId": str(member_id),
                    "externalId": f"demo-{member_id}-{n}",
                    "amountMinor": 500 + (index * 7919 + n * 104729) % 60000,
                    "currency": currency,
                    "occurredAt": (now - timedelta(days=(index + 3 * n) % 30, hours=n)).isoformat(),
                }
            )
    return by_partner


async def seed_live(seeded: Mapping[str, Sequence[Any]]) -> str | None:
    """Demo purchases for the members seeded on this start; returns what it did, for the console."""
    members = list(seeded.get("members") or ())
    if not members:
        return None
    settings = get_settings()
    client = get_http_client(settings)
    recorded = refused = 0
    for slug, purchases in demo_purchases(members).items():
        token = mint_token("partner", demo_partner_id(slug), settings=settings)
        response = await client.post(
            settings.url_of("points"),
            json={"query": _RECORD, "variables": {"purchases": purchases}},
            headers={"authorization": f"Bearer {token}"},
        )
        body = response.json()
        if body.get("errors"):
            raise RuntimeError(f"points refused the demo purchases of {slug}: {body['errors']}")
        for item in body["data"]["recordPurchases"]:
            # an item points refuses (say, a member it cannot confirm) is counted, not fatal
            if item["error"] is None:
                recorded += 1
            else:
                refused += 1
    welcomed = await _welcome_bonuses(members)
    return f"points: {recorded} demo purchases ({refused} refused), {welcomed} welcome bonuses of {WELCOME_BONUS} points"


# Alliance-funded points each demo member starts with, so the demo catalogue is within reach (the
# demo purchases alone earn a few hundred points; benefits cost from 1,500). A credit is not a
# purchase: it moves no one's tier.
WELCOME_BONUS = 3000
_ADJUST = """mutation Welcome($input: AdjustInput!) { adjustPoints(input: $input) { points } }"""


async def _welcome_bonuses(members: Sequence[Any]) -> int:
    settings = get_settings()
    client = get_http_client(settings)
    token = mint_token("staff", "demo-seed", roles=["operator"], settings=settings)
    done = 0
    for member_id in members:
        response = await client.post(settings.url_of("points"), headers={"authorization": f"Bearer {token}"}, json={
            "query": _ADJUST, "variables": {"input": {"memberId": str(member_id), "points": WELCOME_BONUS,
                                                      "reason": "demo: welcome to the alliance", "idempotencyKey": f"demo-welcome-{member_id}"}}})
        body = response.json()
        if body.get("errors"):
            raise RuntimeError(f"points refused a demo welcome bonus: {body['errors']}")
        done += 1
    return done
