"""Points learns members' status from their events: holds need an ACTIVE member, and an erased
member's account is closed (no more earning; the balance goes to breakage)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
import pytest
from starlette.applications import Starlette

from services.members import events as members_events
from services.members.models import OUTBOX as MEMBERS_OUTBOX
from services.members.profiles import service as members
from services.members.schema import schema as members_schema
from services.points import events as points_events
from services.points.earning import service as earning
from services.points.jobs import Job, run_job
from services.points.ledger.status import MemberClosed, MemberNotActive
from services.points.reporting.service import partner_figures
from services.points.schema import schema as points_schema
from shared.auth.principals import Principal, PrincipalKind
from shared.events import Event, dispatch_once
from shared.federation import create_subgraph_app
from shared.timeutil import utcnow
from tests.points.conftest import OPERATOR

SIGNUP = Principal(PrincipalKind.SERVICE, "members")  # members registering through its own layer


@asynccontextmanager
async def _client_of(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://service") as client:
            yield client


async def test_suspension_reactivation_and_erasure_reach_points(kit) -> None:  # noqa: ANN001
    points_app = create_subgraph_app(service="points", schema=points_schema, routes=[points_events.events_route()])
    member = (await members.register_member(kit.db, SIGNUP, phone="+8613812345670", display_name="Status Test")).id
    partner = await kit.partner()
    await kit.earn(member, partner, 500)
    pending_partner = await kit.partner(window=30)
    await kit.earn(member, pending_partner, 200)  # pending: closed too
    await kit.hold(member, 100)

    async with _client_of(points_app) as to_points:

        async def deliver() -> None:
            done = await dispatch_once(kit.db, "members", MEMBERS_OUTBOX, client=to_points)
            assert done.delivered >= 1 and done.retried == done.dead == 0

        await members.suspend_member(kit.db, OPERATOR, member, "fraud check")
        await deliver()
        with pytest.raises(MemberNotActive) as caught:
            await kit.hold(member, 100)
        assert caught.value.as_extensions()["code"] == "MEMBER_NOT_ACTIVE" and caught.value.extensions["status"] == "SUSPENDED"
        assert (await kit.earn(member, partner, 10)).points == 10  # a suspended member still earns

        await members.reactivate_member(kit.db, OPERATOR, member)
        await deliver()
        assert (await kit.hold(member, 100)).amount == 100

        await members.erase_member(kit.db, OPERATOR, member, "right to be forgotten")
        await deliver()
    with pytest.raises(MemberClosed) as caught:
        await kit.earn(member, partner, 10)
    assert caught.value.as_extensions()["code"] == "MEMBER_CLOSED"
    with pytest.raises(MemberClosed):  # nor by an operator's credit
        await earning.adjust_points(kit.db, OPERATOR, member_id=member, points=50, reason="goodwill", idempotency_key="adj-1")
    with pytest.raises(MemberNotActive):
        await kit.hold(member, 1)

    before = await kit.balances(member)
    assert (before.available, before.pending, before.held) == (310, 200, 200)
    async def figures() -> tuple[int, int]:
        found = await partner_figures(kit.db, OPERATOR, [partner.id, pending_partner.id])
        return sum(f.outstanding_points for f in found), sum(f.breakage_points for f in found)  # type: ignore[union-attr]

    outstanding, breakage = await figures()
    done = await run_job(kit.db, OPERATOR, Job.CLOSE_ERASED_ACCOUNTS)
    assert (done.members, done.points) == (1, 510)
    after = await kit.balances(member)
    assert (after.available, after.pending, after.held) == (0, 0, 200)  # held points wait for their hold
    left, booked = await figures()
    assert booked == breakage + 510 and left <= outstanding - 510  # liability drops, as breakage
    assert (await run_job(kit.db, OPERATOR, Job.CLOSE_ERASED_ACCOUNTS)).points == 0  # once
    await kit.assert_consistent()


async def _learn(kit, member_id: uuid.UUID, type_: str, status: str | None, at) -> None:  # noqa: ANN001
    payload = {"memberId": str(member_id), "occurredAt": at.isoformat()}
    if status:
        payload["status"] = status
    event = Event(id=uuid.uuid4(), type=type_, producer="members", payload=payload, occurred_at=at)
    handler = points_events.HANDLERS[type_]
    async with kit.db.session() as session, session.begin():
        await handler(session, event)


async def test_the_latest_status_wins_and_erasure_is_final(kit) -> None:  # noqa: ANN001
    member = await kit.member(300)
    now = utcnow()
    await _learn(kit, member, points_events.MEMBER_STATUS_CHANGED, "SUSPENDED", now)
    await _learn(kit, member, points_events.MEMBER_STATUS_CHANGED, "ACTIVE", now - timedelta(minutes=1))  # late, older
    with pytest.raises(MemberNotActive):
        await kit.hold(member, 10)
    await _learn(kit, member, points_events.MEMBER_STATUS_CHANGED, "ACTIVE", now + timedelta(minutes=1))
    assert (await kit.hold(member, 10)).amount == 10
    await _learn(kit, member, points_events.MEMBER_ERASED, None, now + timedelta(minutes=2))
    await _learn(kit, member, points_events.MEMBER_STATUS_CHANGED, "ACTIVE", now + timedelta(minutes=3))
    with pytest.raises(MemberNotActive) as caught:
        await kit.hold(member, 10)
    assert caught.value.extensions["status"] == "ERASED"
