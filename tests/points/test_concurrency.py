"""Invariants under real concurrency on PostgreSQL: one member's operations serialise on its row
lock, keys replayed at once take effect once, and of racing capture/release/expiry one wins."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from services.points.access import SYSTEM
from services.points.directory import TrustingDirectory
from services.points.earning import service as earning
from services.points.earning.rules import PurchaseInput
from services.points.spending.answers import HoldAnswer
from services.points.spending.service import expire_hold, get_hold
from shared.auth import Principal, PrincipalKind
from shared.errors import Conflict, DomainError, InsufficientPoints
from shared.timeutil import utcnow

SERVICE = Principal(PrincipalKind.SERVICE, "redemptions")
RECORDER = Principal(PrincipalKind.SERVICE, "points")  # records for any partner


async def test_200_concurrent_holds_against_a_balance_for_50(kit) -> None:  # noqa: ANN001
    member = await kit.member(500)
    results = await asyncio.gather(*(kit.hold(member, 10) for _ in range(200)), return_exceptions=True)
    won = [r for r in results if isinstance(r, HoldAnswer)]
    refused = [r for r in results if isinstance(r, InsufficientPoints)]
    assert len(won) == 50 and len(refused) == 150, [r for r in results if not isinstance(r, (HoldAnswer, InsufficientPoints))]
    balances = await kit.balances(member)
    assert (balances.available, balances.held) == (0, 500)
    await kit.assert_consistent()


async def test_50_concurrent_replays_of_one_key_have_one_effect(kit) -> None:  # noqa: ANN001
    member = await kit.member(100)
    results = await asyncio.gather(*(kit.hold(member, 30, key="same-key") for _ in range(50)))
    assert len({r.id for r in results}) == 1
    assert all(r == results[0] for r in results)
    balances = await kit.balances(member)
    assert (balances.available, balances.held) == (70, 30)
    await kit.assert_consistent()


async def test_concurrent_replays_of_a_capture_capture_once(kit) -> None:  # noqa: ANN001
    beneficiary = await kit.partner()
    member = await kit.member(100)
    hold = await kit.hold(member, 60)
    results = await asyncio.gather(*(kit.capture(hold.id, 60, beneficiary, 600, key="cap") for _ in range(20)))
    assert len({r.transaction_id for r in results}) == 1
    assert (await kit.balances(member)).lifetime_spent == 60
    await kit.assert_consistent()


async def test_capture_release_and_expiry_racing_for_one_hold_exactly_one_wins(kit) -> None:  # noqa: ANN001
    beneficiary = await kit.partner()
    member = await kit.member(1000)
    holds = [await kit.hold(member, 10, ttl=60) for _ in range(20)]
    later = utcnow() + timedelta(seconds=30)  # the capture and release see a live hold
    job_time = utcnow() + timedelta(seconds=120)  # the job sees it expired

    async def race(hold: HoldAnswer, order: list[int]) -> list[object]:
        contenders = [
            lambda: kit.capture(hold.id, 10, beneficiary, 100, now=later),
            lambda: kit.release(hold.id, now=later),
            lambda: expire_hold(kit.db, SYSTEM, hold.id, now=job_time),
        ]
        results = await asyncio.gather(*(contenders[i]() for i in order), return_exceptions=True)
        return [results[order.index(i)] for i in range(3)]  # back in capture, release, expiry order

    # Each contender starts first in some races.
    orders = [[0, 1, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]]
    outcomes = await asyncio.gather(*(race(hold, orders[i % 4]) for i, hold in enumerate(holds)))
    statuses = [(await get_hold(kit.db, SERVICE, hold.id)).status for hold in holds]
    for status, (captured, released, expired) in zip(statuses, outcomes):
        unexpected = [o for o in (captured, released) if isinstance(o, Exception) and not isinstance(o, Conflict)]
        assert not unexpected, unexpected
        winners = [not isinstance(captured, Exception), not isinstance(released, Exception), expired is True]
        assert winners.count(True) == 1, (status, captured, released, expired)
        assert status == ["CAPTURED", "RELEASED", "EXPIRED"][winners.index(True)]
    balances = await kit.balances(member)
    assert balances.held == 0
    assert balances.available == 1000 - 10 * statuses.count("CAPTURED")
    await kit.assert_consistent()


async def test_different_members_hold_in_parallel_and_the_ledger_stays_balanced(kit) -> None:  # noqa: ANN001
    partner = await kit.partner()
    members = [await kit.member(100, partner=partner) for _ in range(20)]
    results = await asyncio.gather(*(kit.hold(m, 25) for m in members for _ in range(5)), return_exceptions=True)
    assert sum(isinstance(r, HoldAnswer) for r in results) == 80  # 4 per member
    assert sum(isinstance(r, InsufficientPoints) for r in results) == 20
    await kit.assert_consistent()


async def test_concurrent_bulk_ingestion_over_shared_members_neither_deadlocks_nor_doubles(kit) -> None:  # noqa: ANN001
    partner = await kit.partner()
    members = [uuid.uuid4() for _ in range(30)]
    now = utcnow()

    def batch(offset: int) -> list[PurchaseInput]:
        # Overlapping external ids across batches: each purchase must be recorded exactly once.
        return [
            PurchaseInput(partner.id, members[(i * 7) % 30], f"ext-{i}", 1000, "CNY", now)
            for i in range(offset, offset + 100)
        ]

    results = await asyncio.gather(
        *(earning.record_purchases(kit.db, RECORDER, batch(o), directory=TrustingDirectory()) for o in (0, 50, 25, 75))
    )
    answers = [r for batch_results in results for r in batch_results]
    assert not [r for r in answers if isinstance(r, DomainError)]
    by_external = {}
    for answer in answers:
        by_external.setdefault(answer.external_id, set()).add(answer.purchase_id)
    assert len(by_external) == 175 and all(len(ids) == 1 for ids in by_external.values())
    total = sum(b.available for b in [await kit.balances(m) for m in members])
    assert total == 175 * 10
    await kit.assert_consistent()


async def test_a_failure_after_the_writes_rolls_everything_back(kit, monkeypatch) -> None:  # noqa: ANN001
    """The hot statements run on the driver connection: they must be inside the one transaction."""
    from shared.database import Unit

    member = await kit.member(100)
    original = Unit.flush

    async def flush_then_fail(self) -> None:  # noqa: ANN001
        await original(self)
        raise RuntimeError("the process died after writing")

    monkeypatch.setattr(Unit, "flush", flush_then_fail)
    try:
        await kit.hold(member, 40, key="retry-me")
    except RuntimeError:
        pass
    else:
        raise AssertionError("the hold should have failed")
    monkeypatch.setattr(Unit, "flush", original)
    balances = await kit.balances(member)
    assert (balances.available, balances.held) == (100, 0)
    hold = await kit.hold(member, 40, key="retry-me")  # the key was not consumed either
    assert hold.amount == 40
    await kit.assert_consistent()
