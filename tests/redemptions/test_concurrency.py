"""Limits that must hold when many redemptions arrive at once: real concurrent sagas against the
peer processes and one PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter

import pytest

from services.redemptions.abuse import service as abuse
from services.redemptions.errors import RateLimited
from services.redemptions.redeeming import service as redeeming
from services.redemptions.saga.driver import resume_due
from services.redemptions.redeeming.rules import Rules

from tests.redemptions.kit import OPERATOR, World


async def _outcomes(world: World, calls: list) -> Counter[str]:  # type: ignore[type-arg]
    """How the redemptions ended. On a loaded machine a call to a peer may time out: that saga is
    answered PENDING and retried with the same keys, here by the recovery round a replica runs."""
    results = await asyncio.gather(*calls, return_exceptions=True)
    counted: Counter[str] = Counter()
    for result in results:
        if isinstance(result, BaseException):
            counted[type(result).__name__] += 1
            continue
        if result.status == "PENDING":
            result = await world.wait_for(lambda r=result: _resumed(world, r), lambda r: r.status != "PENDING", seconds=60)
        counted[f"{result.status}:{result.failure_code}"] += 1
    return counted


async def _resumed(world: World, pending):  # type: ignore[no-untyped-def]
    await resume_due(world.db)
    return await redeeming.answer(world.db, OPERATOR, pending.id)


@pytest.mark.timeout(240)
async def test_200_members_race_for_50_codes(world: World) -> None:
    partner = await world.partner()
    benefit = await world.benefit(partner, points=100, settlement=300, codes=50)
    members = [await world.member(points=150) for _ in range(200)]

    outcomes = await _outcomes(world, [world.redeem(member, benefit) for member in members])

    assert outcomes == Counter({"COMPLETED:None": 50, "FAILED:OUT_OF_STOCK": 150})
    assert await world.scalar("SELECT count(*) FROM benefits.codes WHERE benefit_id = :b AND state = 'ISSUED'", b=benefit) == 50
    # no code issued twice: 50 issued reservations, 50 different codes, each the one its redemption delivered
    assert await world.scalar("SELECT count(DISTINCT code_id) FROM benefits.reservations WHERE state = 'ISSUED'") == 50
    assert await world.scalar("SELECT count(*) FROM redemptions.redemptions r JOIN benefits.reservations v"
                              " ON v.key = 'redemption:' || r.id WHERE r.status = 'COMPLETED' AND v.state = 'ISSUED'") == 50
    spent = [(await world.balances(m)) for m in members]
    assert sum(b.held for b in spent) == 0  # every hold of a failed redemption was released
    assert sorted(b.available for b in spent) == [50] * 50 + [150] * 150
    await world.ledger_ok()


@pytest.mark.timeout(180)
async def test_one_member_with_points_for_five_sends_forty_at_once(world: World) -> None:
    partner = await world.partner()
    benefit = await world.benefit(partner, points=100, codes=60)
    member = await world.member(points=500)

    outcomes = await _outcomes(world, [world.redeem(member, benefit) for _ in range(40)])

    assert outcomes == Counter({"COMPLETED:None": 5, "FAILED:INSUFFICIENT_POINTS": 35})
    balances = await world.balances(member)
    assert (balances.available, balances.held, balances.lifetime_spent) == (0, 0, 500)
    await world.ledger_ok()


@pytest.mark.timeout(180)
async def test_a_limit_of_three_a_day_gives_exactly_three_of_fifty(world: World) -> None:
    partner = await world.partner()
    benefit = await world.benefit(partner, points=10, codes=60, limits={"perDay": 3})
    member = await world.member(points=1000)

    outcomes = await _outcomes(world, [world.redeem(member, benefit) for _ in range(50)])

    assert outcomes == Counter({"COMPLETED:None": 3, "FAILED:LIMIT_EXCEEDED": 47})
    balances = await world.balances(member)
    assert (balances.available, balances.held) == (970, 0)
    await world.ledger_ok()


@pytest.mark.timeout(120)
async def test_the_alliance_hourly_limit_holds_under_concurrency(world: World) -> None:
    await abuse.set_rules(world.db, OPERATOR, Rules(per_member_per_hour=3))
    partner = await world.partner()
    benefit = await world.benefit(partner, points=10, codes=30)
    member, other = await world.member(points=1000), await world.member(points=1000)

    outcomes = await _outcomes(world, [world.redeem(member, benefit) for _ in range(20)])

    assert outcomes == Counter({"COMPLETED:None": 3, RateLimited.__name__: 17})
    assert (await world.redeem(other, benefit)).status == "COMPLETED"  # a limit per member, not for all
    with pytest.raises(RateLimited) as refused:
        await world.redeem(member, benefit, uuid.uuid4().hex)
    assert refused.value.extensions["rule"] == "perMemberPerHour" and refused.value.extensions["limit"] == 3
