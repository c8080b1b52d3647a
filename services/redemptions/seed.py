"""Demo data for `abg run`: the alliance's redemption rules, then (once every service is up) a few
demo redemptions by seeded members, through the redemptions API like any member app."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from shared.auth.principals import Principal, PrincipalKind
from shared.auth.tokens import mint_token
from shared.database import Database
from shared.demo import ensure_demo_allowed
from shared.http import get_http_client
from shared.settings import get_settings

from services.redemptions.abuse import service as abuse
from services.redemptions.models import RedemptionRules
from services.redemptions.redeeming.rules import Rules

_OPERATOR = Principal(PrincipalKind.STAFF, "demo-seed", frozenset({"operator"}))
# What a demanding alliance starts with: room for real members, none for a script.
DEMO_RULES = Rules(per_member_per_hour=10, points_per_member_per_day=50_000, members_per_account=3, members_per_device=5,
                   young_account_days=7, high_value_points=5_000)

_CATALOGUE = """{ benefits(first: 50, filter: {kind: VOUCHER, redeemableNow: true}, sort: POINTS_ASC) {
  nodes { id pointsPrice delivery birthdayPerk } } }"""
_BALANCE = """query($r: [_Any!]!) { _entities(representations: $r) { ... on Member { points { available } } } }"""
_REDEEM = """mutation($b: ID!, $k: String!) { redeem(benefitId: $b, idempotencyKey: $k) { id status failureReason } }"""


async def seed_demo(db: Database) -> list[str]:
    """The demo rules, unless rules were set already."""
    ensure_demo_allowed()  # never in production
    async with db.session() as session:
        if await session.get(RedemptionRules, 1) is not None:
            return []
    await abuse.set_rules(db, _OPERATOR, DEMO_RULES)
    return ["rules"]


async def seed_live(seeded: Mapping[str, Sequence[Any]]) -> str | None:
    """The first seeded members each redeem the cheapest code voucher they can afford (each member
    with their own token, as a member app would)."""
    members = list(seeded.get("members") or ())[:6]
    if not members:
        return None
    settings = get_settings()
    client = get_http_client(settings)
    done: dict[str, int] = {}
    for member in members:
        headers = {"authorization": f"Bearer {mint_token('member', str(member), settings=settings)}"}
        catalogue = (await client.post(settings.url_of("benefits"), json={"query": _CATALOGUE}, headers=headers)).json()
        balance = (await client.post(settings.url_of("points"), headers=headers, json={
            "query": _BALANCE, "variables": {"r": [{"__typename": "Member", "id": str(member)}]}})).json()
        entities = (balance.get("data") or {}).get("_entities") or [None]
        available = int(((entities[0] or {}).get("points") or {}).get("available") or 0)
        vouchers = [b for b in ((catalogue.get("data") or {}).get("benefits") or {}).get("nodes", [])
                    if b["delivery"] == "CODE" and not b["birthdayPerk"] and int(b["pointsPrice"]) <= available]
        if not vouchers:
            continue
        body = (await client.post(settings.url_of("redemptions"), headers=headers, timeout=30.0, json={
            "query": _REDEEM, "variables": {"b": vouchers[0]["id"], "k": f"demo-{member}"}})).json()
        status = ((body.get("data") or {}).get("redeem") or {}).get("status") or (body.get("errors") or [{}])[0].get("extensions", {}).get("code", "ERROR")
        done[status] = done.get(status, 0) + 1
    return "redemptions: demo redemptions " + ", ".join(f"{n} {s}" for s, n in sorted(done.items())) if done else None
