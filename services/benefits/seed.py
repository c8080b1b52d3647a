"""Demo data: the alliance's demo partners (only into an empty partners table), then the demo catalogue
with its budgets and generated code pools (each only when empty).

Their ids are points' demo ids — uuid5 of `abg:partner:<slug>` in the URL namespace — so a lot's
issuer in points is a partner here. Each is registered ACTIVE, and its status is published like
any registration, so subscribers (points) learn the registry's view of it.

In development only, StreamBox (whose fulfilment endpoint is the demo video platform) gets the
public DEMO fulfilment secret the demo platform verifies with by default, so a local run delivers
video memberships at once. Anywhere else it gets none: an operator or StreamBox rotates one in.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from shared.auth.principals import Principal, PrincipalKind
from shared.database import Database
from shared.demo import ensure_demo_allowed
from shared.settings import get_settings

from services.benefits.catalogue.seed import DEMO_BENEFITS, demo_benefit_id, seed_catalogue
from services.benefits.codes import ingest as codes
from services.benefits.delivery.demo import demo_fulfilment_secret_bytes
from services.benefits.partners import store as partners_store
from services.benefits.partners.rules import PartnerRole, PartnerStatus
from services.benefits.partners.service import publish_status
from services.benefits.webhooks.rules import SecretPurpose
from services.benefits.webhooks.service import add_secret

EARN, REDEEM = PartnerRole.EARNING.value, PartnerRole.REDEMPTION.value
# StreamBox's fulfilment endpoint: the demo video platform, wherever `abg run` starts it.
DEMO_VIDEO_PLATFORM = "demo video platform"


def demo_video_platform_url(environ: Mapping[str, str] | None = None) -> str:
    """Where the demo video platform listens: ABG_DEMO_VIDEO_HOST / ABG_DEMO_VIDEO_PORT, the variables
    it reads itself (abg/demo/video_platform.py), by default 127.0.0.1:4010."""
    env = os.environ if environ is None else environ
    host = env.get("ABG_DEMO_VIDEO_HOST", "").strip() or "127.0.0.1"
    if host in ("0.0.0.0", "::"):  # listening everywhere: reachable on this machine
        host = "127.0.0.1"
    port = env.get("ABG_DEMO_VIDEO_PORT", "").strip() or "4010"
    return f"http://{f'[{host}]' if ':' in host else host}:{port}"

# slug, name, roles, categories, fulfilment endpoint
DEMO_PARTNERS: tuple[tuple[str, str, tuple[str, ...], tuple[str, ...], str | None], ...] = (
    ("sunrise-coffee", "Sunrise Coffee", (EARN,), ("coffee", "dining"), None),
    ("metro-mart", "Metro Mart", (EARN, REDEEM), ("groceries", "shopping"), None),
    ("skyline-air", "Skyline Air", (EARN, REDEEM), ("travel",), None),
    ("streambox", "StreamBox Video", (EARN, REDEEM), ("video", "entertainment"), DEMO_VIDEO_PLATFORM),
)


def demo_partner_id(slug: str) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"abg:partner:{slug}")


async def seed_demo(db: Database) -> list[uuid.UUID]:
    """Registers the demo partners unless some partner is registered; returns their ids."""
    ensure_demo_allowed()  # never in production

    development = get_settings().env == "development"

    async def work(session: AsyncSession) -> list[uuid.UUID]:
        if await partners_store.any_partner(session):
            return []
        created = []
        for slug, name, roles, categories, fulfilment in DEMO_PARTNERS:
            values: dict[str, Any] = {
                "id": demo_partner_id(slug), "name": name, "brand": name, "status": PartnerStatus.ACTIVE.value,
                "roles": list(roles), "currency": "CNY", "categories": list(categories),
                "fulfilment_url": demo_video_platform_url() if fulfilment == DEMO_VIDEO_PLATFORM else fulfilment,
            }
            row = await partners_store.insert_partner(session, values)
            if row is not None:
                await publish_status(session, row)
                created.append(row.id)
                if fulfilment == DEMO_VIDEO_PLATFORM and development:  # the public DEMO secret: never elsewhere
                    await add_secret(session, row.id, SecretPurpose.FULFILMENT, demo_fulfilment_secret_bytes())
        return created

    created = await db.run_transaction(work)
    await _seed_code_pools(db, await seed_catalogue(db))
    return created


_SEEDER = Principal(PrincipalKind.STAFF, "benefits-seed", frozenset({"operator"}))
DEMO_CODES_PER_POOL = 50


async def _seed_code_pools(db: Database, benefit_ids: list[uuid.UUID]) -> None:
    """Generated codes for the demo benefits just created that deliver codes (the key makes a rerun a no-op)."""
    code_benefits = {demo_benefit_id(slug) for slug, _, columns, _ in DEMO_BENEFITS if columns.get("delivery", "CODE") == "CODE"}
    for benefit_id in [b for b in benefit_ids if b in code_benefits]:
        await codes.generate_codes(
            db, _SEEDER, benefit_id=benefit_id, count=DEMO_CODES_PER_POOL, length=None, alphabet=None,
            idempotency_key=f"demo-pool-{benefit_id}",
        )
