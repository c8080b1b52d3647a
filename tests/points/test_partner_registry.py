"""Points and the partner registry (the benefits service) agree: a partner the registry suspends
records no purchases in points, and one it activates again does. Both services' real apps, their
real event routes and outbox dispatch over HTTP, one real PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from starlette.applications import Starlette

from services.benefits.events import SERVICE as BENEFITS
from services.benefits.models import OUTBOX as BENEFITS_OUTBOX
from services.benefits.partners import service as registry
from services.benefits.partners.answers import PartnerDraft
from services.points import events as points_events
from services.points.earning import service as earning
from services.points.earning.rules import PartnerNotActive, PurchaseInput
from services.points.schema import schema as points_schema
from shared.auth.principals import Principal, PrincipalKind
from shared.errors import Forbidden
from shared.events import dispatch_once
from shared.federation import create_subgraph_app
from shared.timeutil import utcnow

OPERATOR = Principal(PrincipalKind.STAFF, "ops-registry", frozenset({"operator"}))


@asynccontextmanager
async def _client_of(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://service") as client:
            yield client


async def test_a_partner_suspended_in_the_registry_records_no_purchases_in_points(kit) -> None:  # noqa: ANN001
    partner = await kit.partner()  # its points programme
    member = await kit.member()
    as_partner = Principal(PrincipalKind.PARTNER, str(partner.id))
    await registry.register_partner(
        kit.db, OPERATOR, PartnerDraft(id=partner.id, name="Registry Test", brand="RT", roles=["EARNING"], currency="CNY")
    )
    await registry.activate_partner(kit.db, OPERATOR, partner.id)
    points_app = create_subgraph_app(service="points", schema=points_schema, routes=[points_events.events_route()])

    async with _client_of(points_app) as to_points:

        async def deliver() -> None:
            done = await dispatch_once(kit.db, BENEFITS, BENEFITS_OUTBOX, client=to_points, subscribers=["points"])
            assert (done.retried, done.dead) == (0, 0), done

        await deliver()
        bought = await earning.record_purchase(kit.db, as_partner, PurchaseInput(partner.id, member, "p-1", 10_000, "CNY", utcnow()))
        assert bought.points > 0

        await registry.suspend_partner(kit.db, OPERATOR, partner.id, "contract under review")
        await deliver()
        with pytest.raises(PartnerNotActive) as refused:
            await earning.record_purchase(kit.db, as_partner, PurchaseInput(partner.id, member, "p-2", 10_000, "CNY", utcnow()))
        assert refused.value.code == "PARTNER_NOT_ACTIVE" and refused.value.extensions["status"] == "SUSPENDED"

        await registry.activate_partner(kit.db, OPERATOR, partner.id)
        await deliver()
        again = await earning.record_purchase(kit.db, as_partner, PurchaseInput(partner.id, member, "p-2", 10_000, "CNY", utcnow()))
        assert again.points == bought.points


async def test_an_older_status_arriving_late_changes_nothing(kit) -> None:  # noqa: ANN001
    from services.points.access import SYSTEM
    from services.points.partners import service as programmes

    partner = await kit.partner()
    member = await kit.member()
    async with kit.db.transaction() as session:
        await programmes.learn_partner_status(session, SYSTEM, partner_id=partner.id, status="ACTIVE", roles=["EARNING"], version=3)
        await programmes.learn_partner_status(session, SYSTEM, partner_id=partner.id, status="SUSPENDED", roles=["EARNING"], version=2)
    as_partner = Principal(PrincipalKind.PARTNER, str(partner.id))
    assert (await earning.record_purchase(kit.db, as_partner, PurchaseInput(partner.id, member, "late", 10_000, "CNY", utcnow()))).points > 0
    with pytest.raises(Forbidden):  # only points itself may speak for the registry
        async with kit.db.transaction() as session:
            await programmes.learn_partner_status(session, OPERATOR, partner_id=partner.id, status="SUSPENDED", roles=[], version=9)
