"""Redeeming a voucher end to end: the saga through points and benefits (real processes)."""

from __future__ import annotations

import uuid

import pytest

from services.redemptions.redeeming import service as redeeming
from shared.auth.principals import Principal, PrincipalKind
from shared.errors import Forbidden, IdempotencyKeyReused, InvalidInput, NotFound
from shared.timeutil import utcnow

from tests.redemptions.kit import OPERATOR, World, member_principal


async def test_a_member_redeems_a_voucher_and_gets_its_code(world: World) -> None:
    partner = await world.partner()
    benefit = await world.benefit(partner, points=300, settlement=1200, codes=3)
    member = await world.member(points=1000)

    done = await world.redeem(member, benefit, "first")

    assert done.status == "COMPLETED", (done.failure_code, done.failure_message, done.timeline)
    assert done.code and not done.code.startswith("•") and done.code_state == "ISSUED"
    assert (done.settlement_minor, done.currency) == (1200, "CNY")
    assert [s.step for s in done.timeline] == ["ADMIT", "HOLD", "RESERVE", "DELIVER", "CAPTURE", "COMPLETE"]
    balances = await world.balances(member)
    assert (balances.available, balances.held, balances.lifetime_spent) == (700, 0, 300)
    await world.ledger_ok()


async def test_a_replay_answers_the_same_redemption_and_another_benefit_with_the_key_is_refused(world: World) -> None:
    partner = await world.partner()
    benefit, other = await world.benefit(partner, points=100, codes=3), await world.benefit(partner, points=100, codes=3)
    member = await world.member(points=1000)

    first = await world.redeem(member, benefit, "same-key")
    again = await world.redeem(member, benefit, "same-key")

    assert first.status == again.status == "COMPLETED"
    assert (again.id, again.code) == (first.id, first.code)
    with pytest.raises(IdempotencyKeyReused):
        await world.redeem(member, other, "same-key")
    assert (await world.balances(member)).lifetime_spent == 100  # spent once
    assert await world.scalar("SELECT count(*) FROM redemptions.redemptions") == 1


async def test_not_enough_points_fails_typed_and_holds_nothing(world: World) -> None:
    partner = await world.partner()
    benefit = await world.benefit(partner, points=500, codes=2)
    member = await world.member(points=499)

    failed = await world.redeem(member, benefit)

    assert (failed.status, failed.failure_code) == ("FAILED", "INSUFFICIENT_POINTS")
    balances = await world.balances(member)
    assert (balances.available, balances.held) == (499, 0)
    assert await world.scalar("SELECT count(*) FROM benefits.codes WHERE benefit_id = :b AND state = 'AVAILABLE'", b=benefit) == 2


async def test_a_refused_reservation_gives_the_points_back(world: World) -> None:
    partner = await world.partner()
    benefit = await world.benefit(partner, points=100, codes=1)
    first, second = await world.member(points=300), await world.member(points=300)
    assert (await world.redeem(first, benefit)).status == "COMPLETED"

    failed = await world.redeem(second, benefit)

    assert (failed.status, failed.failure_code) == ("FAILED", "OUT_OF_STOCK")
    assert [(s.step, s.outcome) for s in failed.timeline][-2:] == [("RESERVE", "REFUSED"), ("RELEASE", "DONE")]
    balances = await world.balances(second)
    assert (balances.available, balances.held, balances.lifetime_spent) == (300, 0, 0)
    await world.ledger_ok()


async def test_who_may_redeem_and_read(world: World) -> None:
    partner = await world.partner()
    benefit = await world.benefit(partner, points=100, codes=2)
    member, stranger = await world.member(points=300), await world.member()
    done = await world.redeem(member, benefit)

    with pytest.raises(Forbidden):  # a member redeems only for themself
        await redeeming.redeem(world.db, member_principal(stranger), benefit_id=benefit, idempotency_key="x", member_id=member)
    with pytest.raises(Forbidden):  # a partner does not redeem
        await redeeming.redeem(world.db, Principal(PrincipalKind.PARTNER, str(partner)), benefit_id=benefit, idempotency_key="x",
                               member_id=member)
    with pytest.raises(Forbidden):
        await redeeming.answer(world.db, member_principal(stranger), done.id)
    as_partner = await redeeming.answer(world.db, Principal(PrincipalKind.PARTNER, str(partner)), done.id)
    assert as_partner.member_id is None and as_partner.code is None and as_partner.code_masked  # no member data, no code
    as_operator = await redeeming.answer(world.db, OPERATOR, done.id)
    assert as_operator.member_id == member and as_operator.code is None  # the code in clear is the member's alone
    with pytest.raises(Forbidden):  # another partner sees nothing of it
        await redeeming.answer(world.db, Principal(PrincipalKind.PARTNER, str(uuid.uuid4())), done.id)


@pytest.mark.parametrize("caller", ["redemptions", "points", "evil"])
async def test_no_service_redeems_on_a_members_behalf(world: World, caller: str) -> None:
    partner = await world.partner()
    benefit = await world.benefit(partner, points=100, codes=2)
    member = await world.member(points=300)

    with pytest.raises(Forbidden, match="only members redeem"):
        await world.redeem(member, benefit, as_=Principal(PrincipalKind.SERVICE, caller))

    assert (await world.balances(member)).available == 300


async def test_bad_input_is_refused_before_anything_moves(world: World) -> None:
    partner = await world.partner()
    benefit = await world.benefit(partner, points=100, codes=2)
    recharge = await world.benefit(partner, points=100, kind="VIDEO_MEMBERSHIP", delivery="RECHARGE", stockTotal=5)
    member = await world.member(points=300)

    with pytest.raises(InvalidInput):
        await world.redeem(member, benefit, "")
    with pytest.raises(InvalidInput):
        await world.redeem(member, benefit, "k" * 1000)
    with pytest.raises(InvalidInput):  # a recharge needs the member's account on the platform
        await world.redeem(member, recharge)
    with pytest.raises(InvalidInput):
        await world.redeem(member, recharge, account="a" * 500)
    with pytest.raises(NotFound):
        await world.redeem(member, uuid.uuid4())
    with pytest.raises(NotFound):
        await world.redeem(uuid.uuid4(), benefit)
    assert await world.scalar("SELECT count(*) FROM redemptions.redemptions") == 0
    assert (await world.balances(member)).available == 300


async def test_a_free_benefit_is_delivered_without_touching_points(world: World) -> None:
    partner = await world.partner()
    # a birthday treat: free, in the member's birthday month
    benefit = await world.benefit(partner, points=0, settlement=100, codes=2, refundWindowDays=7, birthdayPerk=True)
    member = await world.member(birthday=f"{utcnow().month:02d}-01")

    done = await world.redeem(member, benefit)

    assert (done.status, done.points, done.code_state) == ("COMPLETED", 0, "ISSUED")
    assert [(s.step, s.outcome) for s in done.timeline if s.outcome == "SKIPPED"] == [("HOLD", "SKIPPED"), ("CAPTURE", "SKIPPED")]
    from services.redemptions.refunds import service as refunds

    refunded = await refunds.refund(world.db, member_principal(member), done.id)
    assert (refunded.status, refunded.code_state) == ("REFUNDED", "VOIDED")
    await world.ledger_ok()


async def test_a_suspended_member_cannot_redeem_and_nothing_is_held(world: World) -> None:
    from services.members.profiles.service import suspend_member

    from services.redemptions.errors import MemberNotActive

    partner = await world.partner()
    benefit = await world.benefit(partner, points=100, codes=2)
    member = await world.member(points=300)
    await suspend_member(world.db, OPERATOR, member, reason="chargeback investigation")

    with pytest.raises(MemberNotActive):
        await world.redeem(member, benefit)
    assert (await world.balances(member)).held == 0
    assert await world.scalar("SELECT count(*) FROM redemptions.redemptions") == 0
