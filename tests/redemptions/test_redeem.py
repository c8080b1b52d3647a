"""Redeeming a voucher end to end: the saga through points and benefits (real processes)."""

from __future__ import annotations

from tests.redemptions.kit import World


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
