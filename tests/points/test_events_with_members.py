"""Points and members agree on their events: members' TierChanged reaches points' inbox, and
points' PurchaseRecorded / PurchaseReturned move the member's growth in members. Both outboxes are
delivered by the shared dispatcher to the other service's real app, in process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import respx
from starlette.applications import Starlette

from services.members import events as members_events
from services.members.tiers.service import rolling_growth as member_rolling_growth
from services.members.models import OUTBOX as MEMBERS_OUTBOX
from services.members.schema import schema as members_schema
from services.members.profiles.service import register_member
from shared.auth.principals import Principal, PrincipalKind
from services.points import events as points_events
from services.points.directory import MembersServiceDirectory
from services.points.earning import service as earning
from services.points.earning.rules import PurchaseInput
from services.points.models import OUTBOX as POINTS_OUTBOX
from services.points.schema import schema as points_schema
from shared.auth.principals import Principal, PrincipalKind
from shared.events import dispatch_once
from shared.federation import create_subgraph_app
from shared.settings import get_settings
from shared.timeutil import utcnow


@asynccontextmanager
async def _client_of(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://service") as client:
            yield client


async def test_purchases_move_growth_in_members_and_tier_changes_come_back(kit) -> None:  # noqa: ANN001
    points_app = create_subgraph_app(service="points", schema=points_schema, routes=[points_events.events_route()])
    members_app = create_subgraph_app(service="members", schema=members_schema, routes=[members_events.route()])
    signup = Principal(PrincipalKind.SERVICE, "members")  # members registers (no other service does)
    member = (await register_member(kit.db, signup, phone="+8613812345678", display_name="Points Test")).id
    partner = await kit.partner()
    as_partner = Principal(PrincipalKind.PARTNER, str(partner.id))

    async with _client_of(points_app) as to_points, _client_of(members_app) as to_members:

        async def members_graphql(request: httpx.Request) -> httpx.Response:
            return await to_members.post("/graphql", content=request.content, headers=dict(request.headers))

        # Points has never heard of the member: it asks the members subgraph (`_entities`).
        with respx.mock(assert_all_called=True) as router:
            router.post(get_settings().url_of("members")).mock(side_effect=members_graphql)
            first = PurchaseInput(partner.id, member, "till-1", 250_000, "CNY", utcnow())  # 2,500.00 CNY
            earned = await earning.record_purchase(kit.db, as_partner, first, directory=MembersServiceDirectory())
        assert earned.points == 2500  # BASIC: 1x

        delivered = await dispatch_once(kit.db, "points", POINTS_OUTBOX, client=to_members)
        assert (delivered.delivered, delivered.retried, delivered.dead) == (1, 0, 0)
        grown = (await rolling_growth(kit.db, [member]))[member]
        assert grown == 2500  # one growth point per yuan: SILVER from 2,000

        delivered = await dispatch_once(kit.db, "members", MEMBERS_OUTBOX, client=to_points)
        assert delivered.delivered >= 1 and delivered.retried == 0
        assert (await kit.balances(member)).tier == "SILVER"

        # Known now: no call to members; and the SILVER multiplier (1.25x) applies.
        second = PurchaseInput(partner.id, member, "till-2", 10_000, "CNY", utcnow())
        assert (await earning.record_purchase(kit.db, as_partner, second, directory=MembersServiceDirectory())).points == 125

        await earning.record_return(kit.db, as_partner, partner_id=partner.id, external_id="till-1", return_key="ret-1",
                                    amount_minor=250_000, currency="CNY")
        delivered = await dispatch_once(kit.db, "points", POINTS_OUTBOX, client=to_members)
        assert (delivered.delivered, delivered.retried, delivered.dead) == (2, 0, 0)
        assert (await rolling_growth(kit.db, [member]))[member] == 100  # the return took its growth back


_OPERATOR = Principal(PrincipalKind.STAFF, "ops-test", frozenset({"operator"}))


async def rolling_growth(db, member_ids):  # noqa: ANN001, ANN201
    """Members' rolling growth, read as an operator would."""
    return await member_rolling_growth(db, _OPERATOR, member_ids)
