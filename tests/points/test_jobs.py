"""The scheduled jobs as a whole: idempotent runs, expiry notices, and what partners then see."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import func, select

from services.points.jobs import run_all, run_expiry_notices
from services.points.models import OUTBOX, LedgerTransaction
from services.points.outbox import POINTS_EXPIRING
from services.points.reporting.service import partner_figures
from shared.auth import OPERATOR as OPERATOR_ROLE
from shared.auth import Principal, PrincipalKind
from shared.timeutil import add_months, utcnow

OPERATOR = Principal(PrincipalKind.STAFF, "ops", frozenset({OPERATOR_ROLE}))
TRANSACTIONS = LedgerTransaction.__table__


async def _expiring_events(kit) -> list[dict]:  # noqa: ANN001
    async with kit.db.engine.connect() as c:
        return list((await c.execute(select(OUTBOX.events.c.payload).where(OUTBOX.events.c.type == POINTS_EXPIRING))).scalars())


async def test_points_expiring_within_30_days_are_announced_once(kit) -> None:  # noqa: ANN001
    partner = await kit.partner(months=12)
    member = uuid.uuid4()
    now = utcnow()
    soon = await kit.earn(member, partner, 40, at=add_months(now, -12) + timedelta(days=10))
    await kit.earn(member, partner, 25, at=add_months(now, -12) + timedelta(days=60))
    result = await run_expiry_notices(kit.db, now=now)
    assert (result.lots, result.events) == (1, 1)
    (payload,) = await _expiring_events(kit)
    assert payload == {"memberId": str(member), "points": 40, "expiresOn": soon.expires_at.date().isoformat()}
    assert (await run_expiry_notices(kit.db, now=now + timedelta(hours=1))).events == 0
    later = await run_expiry_notices(kit.db, now=now + timedelta(days=40))
    assert (later.lots, later.events) == (1, 1)
    assert len(await _expiring_events(kit)) == 2


async def test_running_every_job_again_changes_nothing(kit) -> None:  # noqa: ANN001
    short, slow = await kit.partner(months=12), await kit.partner(window=7)
    members = [uuid.uuid4() for _ in range(3)]
    for member in members:
        await kit.earn(member, short, 30)
        await kit.earn(member, slow, 20)
        await kit.hold(member, 10, ttl=60)
    later = utcnow() + timedelta(days=400)
    first = {r.job.value: r for r in await run_all(kit.db, now=later)}
    assert first["RELEASE_EXPIRED_HOLDS"].holds == 3
    assert first["VEST"].points == 60
    assert first["EXPIRE"].points == 90  # the short-lived lots, their held points back first
    snapshot = [(b.available, b.pending, b.held, b.lifetime_expired) for b in [await kit.balances(m) for m in members]]
    async with kit.db.engine.connect() as c:
        count = (await c.execute(select(func.count()).select_from(TRANSACTIONS))).scalar_one()
    again = await run_all(kit.db, now=later)
    assert all(r.lots == 0 and r.holds == 0 and r.points == 0 for r in again)
    assert snapshot == [(b.available, b.pending, b.held, b.lifetime_expired) for b in [await kit.balances(m) for m in members]]
    async with kit.db.engine.connect() as c:
        assert (await c.execute(select(func.count()).select_from(TRANSACTIONS))).scalar_one() == count
    assert snapshot[0] == (20, 0, 0, 30)
    await kit.assert_consistent()


async def test_partner_figures_follow_issue_redemption_and_breakage(kit) -> None:  # noqa: ANN001
    issuer, beneficiary = await kit.partner(months=12, cost=5), await kit.partner()
    member = uuid.uuid4()
    now = utcnow()
    await kit.earn(member, issuer, 100)
    await kit.earn(member, issuer, 50, at=now - timedelta(days=1))
    hold = await kit.hold(member, 30)
    await kit.capture(hold.id, 30, beneficiary, value=150)
    (figures,) = await partner_figures(kit.db, OPERATOR, [issuer.id])
    assert (figures.points_issued, figures.outstanding_points, figures.breakage_points) == (150, 120, 0)
    assert [(m.currency, m.amount_minor) for m in figures.outstanding_value] == [("CNY", 600)]
    assert sum(month.points for month in figures.expiry_forecast) == 120
    (at_beneficiary,) = await partner_figures(kit.db, OPERATOR, [beneficiary.id])
    assert at_beneficiary.redeemed_points == 30 and at_beneficiary.points_issued == 0

    await run_all(kit.db, now=now + timedelta(days=400))
    (figures,) = await partner_figures(kit.db, OPERATOR, [issuer.id])
    assert (figures.outstanding_points, figures.breakage_points) == (0, 120)
    assert [(m.currency, m.amount_minor) for m in figures.breakage_value] == [("CNY", 600)]
    assert figures.expiry_forecast == []


async def test_the_demo_seed_registers_partners_once(kit) -> None:  # noqa: ANN001
    from services.points.seed import DEMO_PARTNERS, demo_partner_id, seed_demo

    created = await seed_demo(kit.db)
    assert created == [demo_partner_id(slug) for slug, *_ in DEMO_PARTNERS]
    assert await seed_demo(kit.db) == []
    await kit.earn(uuid.uuid4(), await _program_of(kit, created[0]), 10)


async def _program_of(kit, partner_id: uuid.UUID):  # noqa: ANN001, ANN202
    from services.points.partners.service import programme

    return await programme(kit.db, OPERATOR, partner_id)
