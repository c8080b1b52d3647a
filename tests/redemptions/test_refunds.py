"""Refunds: the member within the benefit's window, an operator any time; a used voucher never."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from services.redemptions import events
from services.redemptions.errors import NotRefundable, RefundRefused
from services.points.spending.service import settlement_statement
from services.redemptions.refunds import service as refunds
from shared.auth.principals import Principal, PrincipalKind
from shared.errors import Forbidden
from shared.timeutil import utcnow

from tests.redemptions.kit import OPERATOR, World, member_principal


async def _receivable(world: World, partner: uuid.UUID) -> int:
    now = utcnow()
    lines = await settlement_statement(world.db, OPERATOR, partner, now - timedelta(days=1), now + timedelta(days=1))
    return sum(line.receivable_minor for line in lines)


async def _completed(world: World, *, window: int | None = 7, points: int = 200):  # type: ignore[no-untyped-def]
    partner = await world.partner()
    benefit = await world.benefit(partner, points=points, settlement=800, codes=3, refundWindowDays=window)
    member = await world.member(points=1000)
    done = await world.redeem(member, benefit)
    assert done.status == "COMPLETED"
    return partner, benefit, member, done


async def test_a_member_refunds_an_unused_voucher_and_everything_comes_back(world: World) -> None:
    partner, benefit, member, done = await _completed(world)
    budget_spent = await world.scalar("SELECT coalesce(sum(spent_minor), 0) FROM benefits.budget_periods")
    assert await _receivable(world, partner) == 800  # the owner is owed the settlement price for it

    refunded = await refunds.refund(world.db, member_principal(member), done.id, reason="changed my mind")
    assert await _receivable(world, partner) == 0  # and no longer: the settlement was reversed

    assert refunded.status == "REFUNDED" and refunded.code_state == "VOIDED"
    assert (refunded.refund_to_lots, refunded.refund_to_grace) == (200, 0)
    balances = await world.balances(member)
    assert (balances.available, balances.held) == (1000, 0)
    assert await world.scalar("SELECT state FROM benefits.codes WHERE benefit_id = :b AND state <> 'AVAILABLE'", b=benefit) == "VOIDED"
    assert await world.scalar("SELECT state FROM benefits.reservations WHERE key = :k", k=f"redemption:{done.id}") == "VOIDED"
    assert await world.scalar("SELECT coalesce(sum(spent_minor), 0) FROM benefits.budget_periods") <= budget_spent
    # Asking again answers the same refund; nothing moves twice.
    again = await refunds.refund(world.db, member_principal(member), done.id)
    assert again.status == "REFUNDED" and (await world.balances(member)).available == 1000
    published = await world.rows("SELECT type, payload FROM redemptions.outbox_events ORDER BY id")
    assert [row[0] for row in published] == ["redemptions.RedemptionCompleted", "redemptions.RedemptionRefunded"]
    assert published[1][1]["points"] == 200 and published[1][1]["partnerId"] == str(partner)
    await world.ledger_ok()


async def test_a_used_voucher_cannot_be_refunded(world: World) -> None:
    _, _, member, done = await _completed(world)
    # benefits tells redemptions the code was written off at the partner's store
    await world.deliver_event(events.CODE_WRITTEN_OFF, {"reservationKey": f"redemption:{done.id}", "storeId": "store-1",
                                                        "occurredAt": utcnow().isoformat()})
    seen = await world.answer(member, done.id)
    assert seen.code_state == "USED" and seen.code_used_at is not None

    with pytest.raises(RefundRefused) as refused:
        await refunds.refund(world.db, OPERATOR, done.id)
    assert refused.value.as_extensions()["code"] == "ALREADY_USED"
    assert (await world.balances(member)).available == 800


async def test_a_write_off_undone_makes_the_voucher_refundable_again(world: World) -> None:
    _, _, member, done = await _completed(world)
    key = f"redemption:{done.id}"
    await world.deliver_event(events.CODE_WRITTEN_OFF, {"reservationKey": key, "occurredAt": utcnow().isoformat()})
    await world.deliver_event(events.CODE_WRITE_OFF_UNDONE, {"reservationKey": key, "occurredAt": utcnow().isoformat()})
    assert (await world.answer(member, done.id)).code_state == "ISSUED"


async def test_the_window_binds_members_not_operators(world: World) -> None:
    _, _, member, done = await _completed(world, window=None)
    with pytest.raises(NotRefundable):
        await refunds.refund(world.db, member_principal(member), done.id)
    with pytest.raises(Forbidden):
        await refunds.refund(world.db, member_principal(uuid.uuid4()), done.id)
    with pytest.raises(Forbidden):
        await refunds.refund(world.db, Principal(PrincipalKind.PARTNER, str(done.partner_id)), done.id)
    assert (await refunds.refund(world.db, OPERATOR, done.id)).status == "REFUNDED"


async def test_a_closed_window_is_refused_to_the_member(world: World) -> None:
    _, _, member, done = await _completed(world, window=1)
    await world.execute("UPDATE redemptions.redemptions SET completed_at = :t WHERE id = :i",
                     t=utcnow() - timedelta(days=2), i=done.id)
    with pytest.raises(NotRefundable) as refused:
        await refunds.refund(world.db, member_principal(member), done.id)
    assert refused.value.extensions["refundableUntil"]


async def test_only_a_completed_redemption_is_refunded(world: World) -> None:
    partner = await world.partner()
    benefit = await world.benefit(partner, points=500, codes=1)
    member = await world.member(points=100)
    failed = await world.redeem(member, benefit)
    assert failed.status == "FAILED"
    with pytest.raises(NotRefundable):
        await refunds.refund(world.db, OPERATOR, failed.id)


async def test_write_off_events_are_taken_only_from_benefits(world: World) -> None:
    _, _, member, done = await _completed(world)
    with pytest.raises(Forbidden):
        await world.deliver_event(events.CODE_WRITTEN_OFF, {"reservationKey": f"redemption:{done.id}"}, producer="points")
    assert (await world.answer(member, done.id)).code_state == "ISSUED"
    # a code reserved for something else than a redemption is none of ours
    assert await world.deliver_event(events.CODE_WRITTEN_OFF, {"reservationKey": "order-17"}) == "ACCEPTED"
    # a redelivery of an event changes nothing
    once = uuid.uuid4()
    key = {"reservationKey": f"redemption:{done.id}"}
    assert await world.deliver_event(events.CODE_WRITTEN_OFF, key, event_id=once) == "ACCEPTED"
    assert await world.deliver_event(events.CODE_WRITTEN_OFF, key, event_id=once) == "DUPLICATE"
    steps = [(s.step, s.outcome) for s in (await world.answer(member, done.id)).timeline]
    assert steps.count(("CODE", "USED")) == 1


async def test_refunds_run_concurrently_refund_once(world: World) -> None:
    import asyncio

    _, _, member, done = await _completed(world)
    results = await asyncio.gather(*(refunds.refund(world.db, OPERATOR, done.id) for _ in range(8)), return_exceptions=True)
    assert all(not isinstance(r, BaseException) for r in results), results
    await world.wait_for(lambda: world.answer(member, done.id), lambda a: a.status == "REFUNDED")
    assert (await world.balances(member)).available == 1000
    await world.ledger_ok()
