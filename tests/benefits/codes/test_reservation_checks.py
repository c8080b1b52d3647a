"""Reservations and the rest of the benefit: budgets follow every step, the owning partner must be
redeeming, and with the member's facts every eligibility rule applies."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from codes_kit import OPERATOR, SERVICE, Kit
from sqlalchemy import text

from services.benefits.catalogue import budgets
from services.benefits.catalogue.budgets import BudgetInput
from services.benefits.catalogue.rules import MemberFacts
from services.benefits.errors import BudgetExhausted, NotAvailable, TierTooLow
from services.benefits.reservations import service as reservations
from shared.errors import DomainError, InvalidInput


async def _budget(kit: Kit, benefit_id: uuid.UUID) -> tuple[int, int]:
    (view,) = await budgets.budgets_for(kit.db, OPERATOR, [(await _partner_of(kit, benefit_id), benefit_id)])
    assert view is not None
    return view.reserved_minor, view.spent_minor


async def _partner_of(kit: Kit, benefit_id: uuid.UUID) -> uuid.UUID:
    return await kit.scalar("SELECT partner_id FROM benefits.benefits WHERE id = :id", id=benefit_id)  # type: ignore[return-value]


async def test_the_budget_is_reserved_spent_given_back_and_refunded_with_the_reservation(kit: Kit) -> None:
    partner, benefit, _ = await kit.pool(5)  # settlement price 500 each
    await budgets.set_budget(kit.db, OPERATOR, BudgetInput(limit_minor=1_000, currency="CNY", benefit_id=benefit))
    member = uuid.uuid4()
    await reservations.reserve(kit.db, SERVICE, benefit_id=benefit, member_id=member, key="a")
    assert await _budget(kit, benefit) == (500, 0)
    await reservations.issue(kit.db, SERVICE, key="a")
    assert await _budget(kit, benefit) == (0, 500)
    await reservations.reserve(kit.db, SERVICE, benefit_id=benefit, member_id=member, key="b")
    with pytest.raises(BudgetExhausted):  # 500 spent + 500 reserved: the third would pass the limit
        await reservations.reserve(kit.db, SERVICE, benefit_id=benefit, member_id=member, key="c")
    assert await kit.scalar("SELECT count(*) FROM benefits.codes WHERE benefit_id = :b AND state = 'AVAILABLE'", b=benefit) == 3
    await reservations.release(kit.db, SERVICE, key="b")
    assert await _budget(kit, benefit) == (0, 500)
    await reservations.void(kit.db, SERVICE, key="a")
    assert await _budget(kit, benefit) == (0, 0)
    await reservations.reserve(kit.db, SERVICE, benefit_id=benefit, member_id=member, key="c")  # room again
    assert partner


async def test_no_budget_is_overspent_by_concurrent_reservations(kit: Kit) -> None:
    _, benefit, _ = await kit.pool(30)
    await budgets.set_budget(kit.db, OPERATOR, BudgetInput(limit_minor=5_000, currency="CNY", benefit_id=benefit))
    results = await asyncio.gather(
        *(reservations.reserve(kit.db, SERVICE, benefit_id=benefit, member_id=uuid.uuid4(), key=f"k{i}") for i in range(30)),
        return_exceptions=True,
    )
    assert sum(1 for r in results if not isinstance(r, BaseException)) == 10  # 5,000 / 500
    assert all(isinstance(r, BudgetExhausted) for r in results if isinstance(r, BaseException))
    assert await _budget(kit, benefit) == (5_000, 0)


async def test_a_suspended_partners_benefits_are_not_reserved(kit: Kit) -> None:
    partner, benefit, _ = await kit.pool(2)
    async with kit.db.transaction() as session:
        await session.exec(text("UPDATE benefits.partners SET status = 'SUSPENDED' WHERE id = :p"), params={"p": partner})  # type: ignore[call-overload]
    with pytest.raises(NotAvailable) as refused:
        await reservations.reserve(kit.db, SERVICE, benefit_id=benefit, member_id=uuid.uuid4(), key="s")
    assert refused.value.extensions["reason"] == "PARTNER_SUSPENDED"
    assert await kit.scalar("SELECT count(*) FROM benefits.reservations") == 0


async def test_with_the_members_facts_every_eligibility_rule_applies(kit: Kit) -> None:
    _, benefit, _ = await kit.pool(3)
    async with kit.db.transaction() as session:
        await session.exec(text("UPDATE benefits.benefits SET min_tier = 'GOLD', limit_lifetime = 1 WHERE id = :b"),  # type: ignore[call-overload]
                           params={"b": benefit})
    member = uuid.uuid4()
    with pytest.raises(TierTooLow):
        await reservations.reserve(kit.db, SERVICE, benefit_id=benefit, member_id=member, key="t1",
                                   member=MemberFacts(member_id=member, tier="SILVER", status="ACTIVE"))
    gold = MemberFacts(member_id=member, tier="GOLD", status="ACTIVE")
    await reservations.reserve(kit.db, SERVICE, benefit_id=benefit, member_id=member, key="t2", member=gold)
    with pytest.raises(DomainError) as limited:  # the lifetime limit counts the reservation just made
        await reservations.reserve(kit.db, SERVICE, benefit_id=benefit, member_id=member, key="t3", member=gold)
    assert limited.value.code == "LIMIT_EXCEEDED"
    with pytest.raises(InvalidInput):
        await reservations.reserve(kit.db, SERVICE, benefit_id=benefit, member_id=uuid.uuid4(), key="t4", member=gold)
