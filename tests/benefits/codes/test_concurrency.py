"""The concurrency claims, with real concurrent transactions on PostgreSQL: no code reserved or
issued twice, stock never overspent, one outcome per racing steps, write-offs exactly once, and
low-stock alerts once per crossing."""

from __future__ import annotations

import asyncio
import random
import uuid
from datetime import timedelta

import pytest
from codes_kit import SERVICE, Kit, partner_principal

from services.benefits.codes import service as codes_service
from services.benefits.errors import AlreadyUsed, OutOfStock
from services.benefits.reservations import expiry
from services.benefits.reservations import service as reservations
from services.benefits.writeoffs import service as writeoffs
from shared.errors import Conflict, DomainError
from shared.timeutil import utcnow


async def _assert_codes_consistent(kit: Kit) -> None:
    """Every code and reservation agree, and no code was ever issued to two reservations."""
    async with kit.db.session() as session:
        from sqlalchemy import text

        twice = (await session.exec(text(  # type: ignore[call-overload]
            """SELECT code_id FROM benefits.reservations WHERE code_id IS NOT NULL AND state IN ('RESERVED', 'ISSUED', 'VOIDED')
               GROUP BY code_id HAVING count(*) > 1"""))).all()
        assert twice == []
        mismatched = (await session.exec(text(  # type: ignore[call-overload]
            """SELECT r.key, r.state, c.state AS code_state FROM benefits.reservations r JOIN benefits.codes c ON c.id = r.code_id
               WHERE NOT ((r.state = 'RESERVED' AND c.state = 'RESERVED' AND c.reservation_id = r.id)
                       OR (r.state = 'ISSUED' AND c.state IN ('ISSUED', 'USED', 'EXPIRED') AND c.member_id = r.member_id)
                       OR (r.state = 'VOIDED' AND c.state = 'VOIDED')
                       OR (r.state = 'RELEASED' AND (c.reservation_id IS DISTINCT FROM r.id)))"""))).all()
        assert mismatched == []
        orphans = (await session.exec(text(  # type: ignore[call-overload]
            """SELECT c.id FROM benefits.codes c WHERE c.state = 'RESERVED' AND NOT EXISTS (
                   SELECT 1 FROM benefits.reservations r WHERE r.id = c.reservation_id AND r.state = 'RESERVED')"""))).all()
        assert orphans == []


async def test_200_concurrent_reservations_of_the_last_50_codes(kit: Kit) -> None:
    _, benefit, codes = await kit.pool(80)
    for _ in range(30):
        await kit.issued(benefit)
    members = [uuid.uuid4() for _ in range(200)]
    results = await asyncio.gather(
        *(reservations.reserve(kit.db, SERVICE, benefit_id=benefit, member_id=m, key=f"race-{i}") for i, m in enumerate(members)),
        return_exceptions=True,
    )
    won = [r for r in results if not isinstance(r, BaseException)]
    lost = [r for r in results if isinstance(r, BaseException)]
    assert len(won) == 50 and all(isinstance(e, OutOfStock) for e in lost), {type(e).__name__ for e in lost}
    assert len({r.code_id for r in won}) == 50
    issued = await asyncio.gather(*(reservations.issue(kit.db, SERVICE, key=r.key) for r in won))
    everyone = {i.code for i in issued}
    assert len(everyone) == 50 and everyone <= set(codes)
    (stock,) = await codes_service.stocks(kit.db, SERVICE, [benefit])
    assert (stock.available, stock.reserved, stock.issued) == (0, 0, 80)
    assert await kit.scalar("SELECT count(DISTINCT member_id) FROM benefits.codes WHERE state = 'ISSUED'") == 80
    await _assert_codes_consistent(kit)


async def test_concurrent_recharge_reservations_never_overspend_the_stock(kit: Kit) -> None:
    partner = await kit.partner()
    benefit = await kit.benefit(partner, delivery="RECHARGE", stock_total=30)
    results = await asyncio.gather(
        *(reservations.reserve(kit.db, SERVICE, benefit_id=benefit, member_id=uuid.uuid4(), key=f"rc-{i}") for i in range(100)),
        return_exceptions=True,
    )
    assert sum(not isinstance(r, BaseException) for r in results) == 30
    assert all(isinstance(r, OutOfStock) for r in results if isinstance(r, BaseException))
    assert await kit.scalar("SELECT stock_reserved FROM benefits.benefits WHERE id = :b", b=benefit) == 30


async def test_a_key_replayed_at_once_reserves_once(kit: Kit) -> None:
    _, benefit, _ = await kit.pool(10)
    member = uuid.uuid4()
    answers = await asyncio.gather(
        *(reservations.reserve(kit.db, SERVICE, benefit_id=benefit, member_id=member, key="same") for _ in range(40)))
    assert len({a.model_dump_json() for a in answers}) == 1
    issued = await asyncio.gather(*(reservations.issue(kit.db, SERVICE, key="same") for _ in range(20)))
    assert len({i.model_dump_json() for i in issued}) == 1
    assert await kit.scalar("SELECT count(*) FROM benefits.codes WHERE state <> 'AVAILABLE'") == 1


@pytest.mark.parametrize("delivery", ["CODE", "RECHARGE"])
async def test_racing_issue_release_void_and_the_job_end_in_one_consistent_state(kit: Kit, delivery: str) -> None:
    partner = await kit.partner()
    benefit = await kit.benefit(partner, delivery=delivery, stock_total=40 if delivery == "RECHARGE" else None)
    if delivery == "CODE":
        await kit.upload(benefit, partner, [f"RACE{i:04d}" for i in range(40)])
    keys = [f"k{i}" for i in range(40)]
    for key in keys:
        await reservations.reserve(kit.db, SERVICE, benefit_id=benefit, member_id=uuid.uuid4(), key=key, ttl_seconds=10)
    later = utcnow() + timedelta(seconds=11)  # every reservation is also due for the job
    rng = random.Random(7)

    async def race(key: str) -> dict[str, object]:
        steps = {"issue": reservations.issue, "release": reservations.release, "void": reservations.void}
        names = list(steps)
        rng.shuffle(names)
        results = await asyncio.gather(*(steps[name](kit.db, SERVICE, key=key) for name in names), return_exceptions=True)
        return dict(zip(names, results))

    outcomes = await asyncio.gather(*(race(k) for k in keys), expiry.release_expired(kit.db, later, batch=7))
    races: list[dict[str, object]] = outcomes[:-1]  # type: ignore[assignment]
    for result in races:
        assert all(not isinstance(r, BaseException) or isinstance(r, Conflict) for r in result.values()), result
    found = {r.key: r.state for r in await reservations.reservations(kit.db, SERVICE, keys) if r}
    assert set(found.values()) <= {"RELEASED", "ISSUED", "VOIDED"}
    if delivery == "CODE":
        await _assert_codes_consistent(kit)
    else:
        row = await kit.scalar("SELECT stock_reserved || '/' || stock_issued FROM benefits.benefits WHERE id = :b", b=benefit)
        assert row == f"0/{sum(state == 'ISSUED' for state in found.values())}"
    # a step that succeeded answers the same when replayed, and changes nothing
    steps = {"issue": reservations.issue, "release": reservations.release, "void": reservations.void}
    for key, result in zip(keys, races):
        for name, answer in result.items():
            if not isinstance(answer, BaseException):
                assert await steps[name](kit.db, SERVICE, key=key) == answer
    assert {r.key: r.state for r in await reservations.reservations(kit.db, SERVICE, keys) if r} == found


async def test_20_concurrent_write_offs_of_one_code_succeed_once(kit: Kit) -> None:
    partner, benefit, _ = await kit.pool(2)
    issued = await kit.issued(benefit)
    me = partner_principal(partner)
    results = await asyncio.gather(
        *(writeoffs.write_off(kit.db, me, code=issued.code, store_id=f"store-{i}", idempotency_key=f"w{i}") for i in range(20)),
        return_exceptions=True,
    )
    won = [r for r in results if not isinstance(r, BaseException)]
    assert len(won) == 1 and all(isinstance(r, AlreadyUsed) for r in results if isinstance(r, BaseException))
    assert await kit.scalar("SELECT count(*) FROM benefits.write_offs") == 1
    assert len(await kit.events("benefits.CodeWrittenOff")) == 1


async def test_a_write_off_racing_a_refund_has_one_winner(kit: Kit) -> None:
    partner, benefit, _ = await kit.pool(30)
    me = partner_principal(partner)
    issued = [await kit.issued(benefit) for _ in range(30)]
    results = await asyncio.gather(*(
        asyncio.gather(
            writeoffs.write_off(kit.db, me, code=i.code, store_id="s", idempotency_key=f"w-{n}"),
            reservations.void(kit.db, SERVICE, key=i.reservation.key),
            return_exceptions=True,
        ) for n, i in enumerate(issued)))
    for write_off, void in results:
        assert isinstance(write_off, DomainError) != isinstance(void, DomainError), (write_off, void)
    await _assert_codes_consistent(kit)


async def test_low_stock_fires_once_per_crossing_under_concurrency(kit: Kit) -> None:
    partner, benefit, _ = await kit.pool(60, threshold=30)
    results = await asyncio.gather(
        *(reservations.reserve(kit.db, SERVICE, benefit_id=benefit, member_id=uuid.uuid4(), key=f"ls-{i}") for i in range(50)))
    assert len(results) == 50
    alerts = await kit.events("benefits.LowStock")
    assert len(alerts) == 1
    assert alerts[0]["threshold"] == 30 and alerts[0]["available"] < 30 and alerts[0]["partnerId"] == str(partner)
    # released stock does not re-arm it; an upload that brings the pool back to the threshold does
    await asyncio.gather(*(reservations.release(kit.db, SERVICE, key=f"ls-{i}") for i in range(25)))
    await asyncio.gather(*(reservations.reserve(kit.db, SERVICE, benefit_id=benefit, member_id=uuid.uuid4(), key=f"ls2-{i}")
                           for i in range(25)))
    assert len(await kit.events("benefits.LowStock")) == 1
    await kit.upload(benefit, partner, [f"REFILL-{i}" for i in range(40)])  # 10 + 40 available
    assert not await kit.scalar("SELECT low_stock_alerted FROM benefits.benefits WHERE id = :b", b=benefit)
    await asyncio.gather(*(reservations.reserve(kit.db, SERVICE, benefit_id=benefit, member_id=uuid.uuid4(), key=f"ls3-{i}")
                           for i in range(45)))
    alerts = await kit.events("benefits.LowStock")
    assert len(alerts) == 2 and alerts[1]["available"] < 30
