"""Who a new user can be at once: a demo member and a demo partner, with ready development tokens.

Printed by `abg run` in development, so nobody has to find ids with an operator token first. The
member is the seeded DIAMOND member (the members seed is deterministic by phone: member 3 is
MATURE and DIAMOND); the partner is StreamBox, whose id every service's demo data shares.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from abg.dev_tokens import mint_dev_token
from shared.http import get_http_client
from shared.settings import Settings

DEMO_MEMBER_PHONE = "+8613800000003"
DEMO_PARTNER_SLUG = "streambox"


def demo_partner_id(slug: str = DEMO_PARTNER_SLUG) -> uuid.UUID:
    """The demo partners' ids: uuid5 of `abg:partner:<slug>`, as in every service's seed."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"abg:partner:{slug}")


@dataclass(frozen=True, slots=True)
class DemoIdentity:
    label: str
    subject: str
    token: str


async def find_demo_member(settings: Settings) -> str | None:
    """The demo member's id, asked of the members service as an operator; None if not seeded."""
    operator = mint_dev_token("staff", "abg-run", ["operator"], settings=settings)
    query = "query($phone: String) { members(filter: {phone: $phone}, first: 1) { edges { node { id } } } }"
    response = await get_http_client().post(
        settings.url_of("members"),
        json={"query": query, "variables": {"phone": DEMO_MEMBER_PHONE}},
        headers={"Authorization": f"Bearer {operator}"},
    )
    edges = ((response.json().get("data") or {}).get("members") or {}).get("edges") or []
    return edges[0]["node"]["id"] if edges else None


async def demo_identities(settings: Settings) -> list[DemoIdentity]:
    identities = []
    member = await find_demo_member(settings)
    if member:
        identities.append(DemoIdentity("demo member (DIAMOND)", member, mint_dev_token("member", member, settings=settings)))
    partner = str(demo_partner_id())
    identities.append(DemoIdentity("demo partner (StreamBox)", partner, mint_dev_token("partner", partner, settings=settings)))
    return identities
