"""Budgets on real PostgreSQL: no budget is ever overspent under concurrent reservations, each
threshold fires exactly once per period, release and commit move the amounts, periods roll over;
and who may set and read budgets."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from catalogue_kit import ANONYMOUS, CS, OPERATOR, SERVICE, member_principal, partner_principal, voucher

from services.benefits.catalogue import budgets, rules
from services.benefits.catalogue.answers import BudgetHold
from services.benefits.catalogue.budgets import BudgetInput
from services.benefits.models import OUTBOX
from shared.errors import DomainError
from shared.timeutil import utcnow

PERIOD = rules.month_start(utcnow())


async def reserve(kit, benefit, amount: int, period: datetime = PERIOD) -> BudgetHold | str:  # noqa: ANN001
    try:
        return await kit.db.run_transaction(lambda s: budgets.reserve_budget(s, benefit, amount, period))
    except DomainError as error:
        return error.code


async def figures(kit, partner_id: uuid.UUID, benefit_id: uuid.UUID | None, now: datetime | None = None) -> tuple[int, int, int]:  # noqa: ANN001
    (found,) = await budgets.budgets_for(kit.db, OPERATOR, [(partner_id, benefit_id)], now)
    assert found is not None
    return found.limit_minor, found.reserved_minor, found.spent_minor


async def threshold_events(kit) -> list[dict]:  # noqa: ANN001
    async with kit.db.engine.connect() as connection:
        rows = await connection.execute(
            sa.select(OUTBOX.events.c.payload, OUTBOX.deliveries.c.subscriber)
            .join(OUTBOX.deliveries, OUTBOX.deliveries.c.event_id == OUTBOX.events.c.id)
            .where(OUTBOX.events.c.type == "benefits.BudgetThresholdReached")
        )
        return [{**row.payload, "subscriber": row.subscriber} for row in rows]


async def test_no_budget_is_overspent_under_concurrent_reservations(kit) -> None:  # noqa: ANN001
    partner = await kit.partner()
    benefit = await kit.benefit(partner)
    await budgets.set_budget(kit.db, OPERATOR, BudgetInput(limit_minor=10_000, currency="CNY", benefit_id=benefit.id))
    outcomes = await asyncio.gather(*(reserve(kit, benefit, 1_800) for _ in range(120)))
    taken = [o for o in outcomes if isinstance(o, BudgetHold)]
    assert len(taken) == 10_000 // 1_800 == 5
    assert [o for o in outcomes if not isinstance(o, BudgetHold)] == ["BUDGET_EXHAUSTED"] * 115
    assert await figures(kit, partner, benefit.id) == (10_000, 9_000, 0)


async def test_a_partner_budget_caps_all_its_benefits_at_once(kit) -> None:  # noqa: ANN001
    partner = await kit.partner()
    benefits = [await kit.benefit(partner, voucher(title=f"B{i}")) for i in range(3)]
    await budgets.set_budget(kit.db, OPERATOR, BudgetInput(limit_minor=10_000, currency="CNY", partner_id=partner))
    for b in benefits:
        await budgets.set_budget(kit.db, OPERATOR, BudgetInput(limit_minor=6_000, currency="CNY", benefit_id=b.id))
    outcomes = await asyncio.gather(*(reserve(kit, benefits[i % 3], 1_000) for i in range(150)))
    assert sum(isinstance(o, BudgetHold) for o in outcomes) == 10
    assert (await figures(kit, partner, None))[1] == 10_000
    per_benefit = [(await figures(kit, partner, b.id))[1] for b in benefits]
    assert sum(per_benefit) == 10_000 and all(r <= 6_000 for r in per_benefit)


async def test_a_refusal_takes_nothing_from_any_budget(kit) -> None:  # noqa: ANN001
    partner = await kit.partner()
    benefit = await kit.benefit(partner)
    await budgets.set_budget(kit.db, OPERATOR, BudgetInput(limit_minor=5_000, currency="CNY", benefit_id=benefit.id))
    await budgets.set_budget(kit.db, OPERATOR, BudgetInput(limit_minor=1_000, currency="CNY", partner_id=partner))
    assert await reserve(kit, benefit, 1_500) == "BUDGET_EXHAUSTED"
    assert (await figures(kit, partner, benefit.id))[1] == 0 and (await figures(kit, partner, None))[1] == 0


async def test_each_threshold_fires_exactly_once_under_concurrency(kit) -> None:  # noqa: ANN001
    partner = await kit.partner()
    benefit = await kit.benefit(partner)
    budget = await budgets.set_budget(
        kit.db, partner_principal(partner), BudgetInput(limit_minor=10_000, currency="CNY", benefit_id=benefit.id, thresholds_percent=(100, 50, 80))
    )
    assert budget.thresholds_percent == (50, 80, 100)
    outcomes = await asyncio.gather(*(reserve(kit, benefit, 1_000) for _ in range(100)))
    assert sum(isinstance(o, BudgetHold) for o in outcomes) == 10
    fired = sorted((e["percent"], e["subscriber"]) for e in await threshold_events(kit))
    assert fired == [(50, "webhooks"), (80, "webhooks"), (100, "webhooks")]
    event = next(e for e in await threshold_events(kit) if e["percent"] == 100)
    assert event["partnerId"] == str(partner) and event["benefitId"] == str(benefit.id) and event["budgetId"] == str(budget.id)
    assert (event["limitMinor"], event["reservedMinor"] + event["spentMinor"]) == (10_000, 10_000)
    assert event["periodStart"].startswith(PERIOD.date().isoformat())
    assert (await budgets.budgets_for(kit.db, OPERATOR, [(partner, benefit.id)]))[0].alerted_percent == (50, 80, 100)
    # Giving back and taking again does not fire them again this period.
    await kit.db.run_transaction(lambda s: budgets.release_budget(s, benefit, 5_000, PERIOD))
    again = [await reserve(kit, benefit, 1_000) for _ in range(6)]
    assert sum(isinstance(o, BudgetHold) for o in again) == 5
    assert len(await threshold_events(kit)) == 3


async def test_release_gives_back_and_commit_turns_reserved_into_spent(kit) -> None:  # noqa: ANN001
    partner = await kit.partner()
    benefit = await kit.benefit(partner)
    await budgets.set_budget(kit.db, OPERATOR, BudgetInput(limit_minor=3_000, currency="CNY", benefit_id=benefit.id))
    for _ in range(3):
        assert isinstance(await reserve(kit, benefit, 1_000), BudgetHold)
    assert await reserve(kit, benefit, 1_000) == "BUDGET_EXHAUSTED"
    await kit.db.run_transaction(lambda s: budgets.release_budget(s, benefit, 1_000, PERIOD))  # a failed redemption
    await kit.db.run_transaction(lambda s: budgets.commit_budget(s, benefit, 1_000, PERIOD))  # an issued one
    assert await figures(kit, partner, benefit.id) == (3_000, 1_000, 1_000)
    assert isinstance(await reserve(kit, benefit, 1_000), BudgetHold)
    assert await reserve(kit, benefit, 1_000) == "BUDGET_EXHAUSTED"
    await kit.db.run_transaction(lambda s: budgets.release_budget(s, benefit, 1_000, PERIOD, spent=True))  # a refund
    assert await figures(kit, partner, benefit.id) == (3_000, 2_000, 0)
    assert isinstance(await reserve(kit, benefit, 1_000), BudgetHold)


async def test_concurrent_releases_and_reservations_keep_the_books(kit) -> None:  # noqa: ANN001
    partner = await kit.partner()
    benefit = await kit.benefit(partner)
    # Room for all of them whatever the interleaving (exhaustion is the test above's).
    await budgets.set_budget(kit.db, OPERATOR, BudgetInput(limit_minor=60_000, currency="CNY", benefit_id=benefit.id))
    await budgets.set_budget(kit.db, OPERATOR, BudgetInput(limit_minor=60_000, currency="CNY", partner_id=partner))
    for _ in range(20):
        await reserve(kit, benefit, 1_000)

    async def release() -> None:
        await kit.db.run_transaction(lambda s: budgets.release_budget(s, benefit, 1_000, PERIOD))

    async def commit() -> None:
        await kit.db.run_transaction(lambda s: budgets.commit_budget(s, benefit, 1_000, PERIOD))

    outcomes = await asyncio.gather(*(f() for f in [release] * 10 + [commit] * 10), *(reserve(kit, benefit, 1_000) for _ in range(40)))
    assert all(isinstance(o, BudgetHold) for o in outcomes[20:])
    for target in (benefit.id, None):
        limit, reserved, spent = await figures(kit, partner, target)
        assert (reserved, spent) == (40_000, 10_000)  # 20 + 40 reserved, 10 released, 10 spent


async def test_periods_roll_over_and_each_keeps_its_own_books(kit) -> None:  # noqa: ANN001
    partner = await kit.partner()
    benefit = await kit.benefit(partner)
    await budgets.set_budget(kit.db, OPERATOR, BudgetInput(limit_minor=2_000, currency="CNY", benefit_id=benefit.id))
    may, june = datetime(2026, 5, 1, tzinfo=UTC), datetime(2026, 6, 1, tzinfo=UTC)
    assert isinstance(await reserve(kit, benefit, 2_000, may), BudgetHold)
    assert await reserve(kit, benefit, 1, may) == "BUDGET_EXHAUSTED"
    assert isinstance(await reserve(kit, benefit, 2_000, june), BudgetHold)
    await kit.db.run_transaction(lambda s: budgets.release_budget(s, benefit, 2_000, may))
    assert await figures(kit, partner, benefit.id, now=datetime(2026, 5, 20, tzinfo=UTC)) == (2_000, 0, 0)
    assert await figures(kit, partner, benefit.id, now=datetime(2026, 6, 30, 23, 59, tzinfo=UTC)) == (2_000, 2_000, 0)
    assert await figures(kit, partner, benefit.id, now=datetime(2026, 7, 1, tzinfo=UTC)) == (2_000, 0, 0)


async def test_without_a_budget_or_with_a_soft_one_nothing_is_refused(kit) -> None:  # noqa: ANN001
    partner = await kit.partner()
    free, soft = await kit.benefit(partner), await kit.benefit(partner)
    assert await reserve(kit, free, 10**9) == BudgetHold(budget_ids=())
    await budgets.set_budget(kit.db, OPERATOR, BudgetInput(limit_minor=1_000, currency="CNY", benefit_id=soft.id, hard_stop=False))
    holds = [await reserve(kit, soft, 600) for _ in range(3)]
    assert all(isinstance(h, BudgetHold) for h in holds)
    assert [h.thresholds_fired for h in holds if isinstance(h, BudgetHold)][:2] == [(), ((holds[0].budget_ids[0], 80), (holds[0].budget_ids[0], 100))]  # type: ignore[union-attr]
    assert await figures(kit, partner, soft.id) == (1_000, 1_800, 0)


async def test_a_budget_set_mid_period_counts_what_was_already_redeemed(kit) -> None:  # noqa: ANN001
    partner = await kit.partner()
    benefit, other = await kit.benefit(partner), await kit.benefit(partner)
    member = uuid.uuid4()
    await kit.reservation(benefit, member, state="ISSUED", settlement=1_800)
    await kit.reservation(benefit, member, state="RESERVED", settlement=1_800)
    await kit.reservation(benefit, member, state="RELEASED", settlement=1_800)
    await kit.reservation(other, member, state="ISSUED", settlement=500)
    await kit.reservation(benefit, member, state="ISSUED", settlement=1_800, at=datetime(2020, 1, 5, tzinfo=UTC))
    await budgets.set_budget(kit.db, OPERATOR, BudgetInput(limit_minor=4_000, currency="CNY", benefit_id=benefit.id))
    assert await figures(kit, partner, benefit.id) == (4_000, 1_800, 1_800)
    await budgets.set_budget(kit.db, OPERATOR, BudgetInput(limit_minor=100_000, currency="CNY", partner_id=partner))
    assert await figures(kit, partner, None) == (100_000, 1_800, 2_300)
    # Lowering the limit fires the thresholds the figures now reach, once.
    lowered = await budgets.set_budget(kit.db, OPERATOR, BudgetInput(limit_minor=3_600, currency="CNY", benefit_id=benefit.id))
    assert lowered.alerted_percent == (80, 100) and lowered.remaining_minor == 0
    await budgets.set_budget(kit.db, OPERATOR, BudgetInput(limit_minor=3_000, currency="CNY", benefit_id=benefit.id))
    assert sorted(e["percent"] for e in await threshold_events(kit)) == [80, 100]


@pytest.mark.parametrize(
    ("who", "code"),
    [("owner", None), ("operator", None), ("other partner", "FORBIDDEN"), ("member", "FORBIDDEN"), ("cs", "FORBIDDEN"),
     ("service", "FORBIDDEN"), ("anonymous", "UNAUTHENTICATED")],
)
async def test_who_sets_budgets(kit, who, code) -> None:  # noqa: ANN001
    partner, other = await kit.partner(), await kit.partner()
    benefit = await kit.benefit(partner)
    principal = {"owner": partner_principal(partner), "operator": OPERATOR, "other partner": partner_principal(other),
                 "member": member_principal(uuid.uuid4()), "cs": CS, "service": SERVICE, "anonymous": ANONYMOUS}[who]
    for target in ({"benefit_id": benefit.id}, {"partner_id": partner}):
        try:
            set_ = await budgets.set_budget(kit.db, principal, BudgetInput(limit_minor=1_000, currency="CNY", **target))
            assert code is None and set_.limit_minor == 1_000
        except DomainError as error:
            assert error.code == code


@pytest.mark.parametrize(
    ("who", "sees"),
    [("owner", True), ("operator", True), ("cs", True), ("service", True), ("other partner", False), ("member", False)],
)
async def test_who_reads_budgets(kit, who, sees) -> None:  # noqa: ANN001
    partner, other = await kit.partner(), await kit.partner()
    benefit = await kit.benefit(partner)
    await budgets.set_budget(kit.db, OPERATOR, BudgetInput(limit_minor=1_000, currency="CNY", benefit_id=benefit.id))
    await budgets.set_budget(kit.db, OPERATOR, BudgetInput(limit_minor=9_000, currency="CNY", partner_id=partner))
    principal = {"owner": partner_principal(partner), "operator": OPERATOR, "other partner": partner_principal(other),
                 "member": member_principal(uuid.uuid4()), "cs": CS, "service": SERVICE}[who]
    found = await budgets.budgets_for(kit.db, principal, [(partner, benefit.id), (partner, None), (other, None)])
    assert [f.limit_minor if f else None for f in found] == ([1_000, 9_000, None] if sees else [None, None, None])


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"limit_minor": -1}, "limit.amountMinor"), ({"limit_minor": 10**13}, "limit.amountMinor"),
     ({"currency": "USD"}, "limit.currency"), ({"currency": "usd"}, "limit.currency"),
     ({"thresholds_percent": (0,)}, "thresholdsPercent"), ({"thresholds_percent": (101,)}, "thresholdsPercent"),
     ({"thresholds_percent": tuple(range(1, 12))}, "thresholdsPercent"), ({"period": "WEEK"}, "period")],
)
async def test_bad_budgets_are_refused(kit, changes, field) -> None:  # noqa: ANN001
    partner = await kit.partner()
    benefit = await kit.benefit(partner)
    with pytest.raises(DomainError) as caught:
        await budgets.set_budget(kit.db, OPERATOR, BudgetInput(**{"limit_minor": 1_000, "currency": "CNY", "benefit_id": benefit.id, **changes}))
    assert (caught.value.code, caught.value.extensions["field"]) == ("BAD_USER_INPUT", field)


async def test_a_benefit_budget_names_a_benefit_of_that_partner(kit) -> None:  # noqa: ANN001
    partner, other = await kit.partner(), await kit.partner()
    benefit = await kit.benefit(partner)
    for target in ({"benefit_id": benefit.id, "partner_id": other}, {"benefit_id": uuid.uuid4()}):
        with pytest.raises(DomainError) as caught:
            await budgets.set_budget(kit.db, OPERATOR, BudgetInput(limit_minor=1, currency="CNY", **target))
        assert caught.value.code == "NOT_FOUND"
    with pytest.raises(DomainError) as caught:
        await budgets.set_budget(kit.db, OPERATOR, BudgetInput(limit_minor=1, currency="CNY"))
    assert caught.value.code == "BAD_USER_INPUT"


async def test_the_service_functions_refuse_nonsense_amounts_and_periods(kit) -> None:  # noqa: ANN001
    partner = await kit.partner()
    benefit = await kit.benefit(partner)
    for amount, period in [(-1, PERIOD), (1, datetime(2026, 5, 2, tzinfo=UTC)), (True, PERIOD)]:
        with pytest.raises(ValueError):
            await kit.db.run_transaction(lambda s: budgets.reserve_budget(s, benefit, amount, period))  # noqa: B023
