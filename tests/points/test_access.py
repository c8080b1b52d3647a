"""The service layer decides who may do what (the GraphQL layer no longer checks roles): each
operation refuses the wrong caller with the typed error, before it writes anything, and batch
reads answer a refused key with its error in place while the others load."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from services.points import access, jobs
from services.points.audit import service as audit
from services.points.earning import service as earning
from services.points.earning.rules import PurchaseInput
from services.points.ledger.answers import Balances
from services.points.partners import service as partners
from services.points.reporting import service as reporting
from services.points.spending import service as spending
from shared.auth import ANONYMOUS, CUSTOMER_SERVICE, OPERATOR, Principal, PrincipalKind
from shared.errors import Forbidden, Unauthenticated
from shared.timeutil import utcnow

REDEMPTIONS = Principal(PrincipalKind.SERVICE, "redemptions")
OPS = Principal(PrincipalKind.STAFF, "ops", frozenset({OPERATOR}))
CS = Principal(PrincipalKind.STAFF, "cs", frozenset({CUSTOMER_SERVICE}))


def member(member_id: uuid.UUID) -> Principal:
    return Principal(PrincipalKind.MEMBER, str(member_id))


def partner(partner_id: uuid.UUID) -> Principal:
    return Principal(PrincipalKind.PARTNER, str(partner_id))


async def test_value_moving_operations_refuse_the_wrong_callers_and_write_nothing(kit) -> None:  # noqa: ANN001
    issuer = await kit.partner()
    someone = await kit.member(50, partner=issuer)
    hold = await kit.hold(someone, 10)
    before = await kit.balances(someone)

    def hold_as(principal: Principal):  # type: ignore[no-untyped-def]  # noqa: ANN202
        return spending.hold_points(kit.db, principal, member_id=someone, points=5, ttl_seconds=60, reference="r", idempotency_key=kit.key())

    for refused, error in [(ANONYMOUS, Unauthenticated), (member(someone), Forbidden), (partner(issuer.id), Forbidden), (OPS, Forbidden)]:
        with pytest.raises(error):
            await hold_as(refused)
        with pytest.raises(error):
            await spending.capture_hold(kit.db, refused, hold_id=hold.id, points=10, beneficiary_partner_id=issuer.id,
                                        value_minor=0, currency="CNY", idempotency_key=kit.key())
        with pytest.raises(error):
            await spending.release_hold(kit.db, refused, hold_id=hold.id, idempotency_key=kit.key())
    for refused in (REDEMPTIONS, CS, member(someone)):
        with pytest.raises(Forbidden):
            await earning.adjust_points(kit.db, refused, member_id=someone, points=5, reason="r", idempotency_key=kit.key())
    other = await kit.partner()
    item = PurchaseInput(other.id, someone, "x-1", 1000, "CNY", utcnow())
    with pytest.raises(Forbidden):  # a partner records only its own purchases
        await earning.record_purchase(kit.db, partner(issuer.id), item)
    with pytest.raises(Forbidden):
        await earning.record_purchase(kit.db, member(someone), item)
    with pytest.raises(Forbidden):
        await earning.record_return(kit.db, partner(issuer.id), partner_id=other.id, external_id="x-1", return_key="k",
                                    amount_minor=1, currency="CNY")
    assert await kit.balances(someone) == before


async def test_configuration_checks_and_jobs_are_for_operators(kit) -> None:  # noqa: ANN001
    for refused in (REDEMPTIONS, CS):
        with pytest.raises(Forbidden):
            await partners.set_programme(kit.db, refused, partner_id=uuid.uuid4(), currency="CNY")
        with pytest.raises(Forbidden):
            await earning.set_earning_policy(kit.db, refused, tier_multipliers={}, birthday_multiplier=10_000)
        with pytest.raises(Forbidden):
            await audit.ledger_check(kit.db, refused)
        with pytest.raises(Forbidden):
            await jobs.run_job(kit.db, refused, jobs.Job.VEST)
    with pytest.raises(Unauthenticated):
        await audit.verify_chains(kit.db, ANONYMOUS)
    assert (await jobs.run_job(kit.db, OPS, jobs.Job.VEST)).lots == 0
    assert (await jobs.run_job(kit.db, access.SYSTEM, jobs.Job.EXPIRE)).lots == 0  # points itself, as its loop runs them


async def test_batch_reads_refuse_per_key(kit) -> None:  # noqa: ANN001
    mine, theirs = await kit.member(20), await kit.member(30)
    answers = await reporting.balances_of(kit.db, member(mine), [mine, theirs, mine])
    assert isinstance(answers[0], Balances) and answers[0].available == 20 and answers[2] == answers[0]
    assert isinstance(answers[1], Forbidden)
    assert [b.available for b in await reporting.balances_of(kit.db, CS, [mine, theirs])] == [20, 30]  # type: ignore[union-attr]
    one, two = await kit.partner(), await kit.partner()
    programmes = await partners.programmes_of(kit.db, partner(one.id), [one.id, two.id, uuid.uuid4()])
    assert programmes[0] == one and isinstance(programmes[1], Forbidden) and isinstance(programmes[2], Forbidden)
    assert (await partners.programmes_of(kit.db, REDEMPTIONS, [uuid.uuid4()])) == [None]  # not registered
    figures = await reporting.partner_figures(kit.db, ANONYMOUS, [one.id])
    assert isinstance(figures[0], Unauthenticated)
    with pytest.raises(Forbidden):
        await reporting.expiring_soon(kit.db, member(mine), theirs, within_days=30)
    with pytest.raises(Forbidden):
        await spending.settlement_statement(kit.db, partner(two.id), one.id, utcnow() - timedelta(days=1), utcnow())
