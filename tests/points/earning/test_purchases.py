"""Purchases and returns: earning rules, idempotency on (partner, external id), the purchase event,
bulk ingestion with per-item results, proportional clawback and debt."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from services.points.config import get_points_settings
from services.points.directory import StaticDirectory, TrustingDirectory
from services.points.earning import service as earning
from services.points.earning.rules import PurchaseInput
from services.points.events import HANDLERS, TIER_CHANGED
from services.points.jobs import run_vesting
from services.points.ledger.service import set_points_profile
from services.points.models import INBOX, OUTBOX, Lot, Purchase
from services.points.outbox import PURCHASE_RECORDED, PURCHASE_RETURNED
from services.points.partners.service import set_programme
from shared.auth import OPERATOR as OPERATOR_ROLE
from shared.auth import Principal, PrincipalKind
from shared.errors import DomainError, Forbidden, IdempotencyKeyReused, InvalidInput, NotFound
from shared.events import Event, consume
from shared.timeutil import utcnow

SERVICE = Principal(PrincipalKind.SERVICE, "points")  # records for any partner
MEMBERS = Principal(PrincipalKind.SERVICE, "members")
OPERATOR = Principal(PrincipalKind.STAFF, "ops", frozenset({OPERATOR_ROLE}))
LOTS, PURCHASES = Lot.__table__, Purchase.__table__


def as_partner(partner_id: uuid.UUID) -> Principal:
    return Principal(PrincipalKind.PARTNER, str(partner_id))


def _purchase(partner, member: uuid.UUID, amount: int, *, external_id: str = "order-1", at: datetime | None = None,  # noqa: ANN001
              category: str | None = None, currency: str | None = None) -> PurchaseInput:
    return PurchaseInput(partner.id, member, external_id, amount, currency or partner.currency, at or utcnow(), category)


async def _record(kit, item: PurchaseInput, **kwargs):  # noqa: ANN001, ANN202
    return await earning.record_purchase(kit.db, SERVICE, item, directory=kwargs.pop("directory", TrustingDirectory()), **kwargs)


async def _tier_changed(kit, member: uuid.UUID, tier: str, sequence: int) -> None:  # noqa: ANN001
    event = Event(uuid.uuid4(), TIER_CHANGED, {"memberId": str(member), "fromTier": None, "toTier": tier,
                                               "occurredAt": utcnow().isoformat(), "sequence": sequence}, utcnow(), "members")
    await consume(kit.db, INBOX, HANDLERS, event)


async def _count(kit, table) -> int:  # noqa: ANN001
    async with kit.db.engine.connect() as c:
        return (await c.execute(select(func.count()).select_from(table))).scalar_one()


async def test_base_rate_tier_and_birthday_multipliers(kit) -> None:  # noqa: ANN001
    partner = await kit.partner(earn_points=3, earn_per_minor=200)  # 3 points per 2.00
    member = uuid.uuid4()
    assert (await _record(kit, _purchase(partner, member, 10_000, external_id="a"))).points == 150

    await _tier_changed(kit, member, "GOLD", 2)  # 1.5x by default
    assert (await _record(kit, _purchase(partner, member, 10_000, external_id="b"))).points == 225
    await _tier_changed(kit, member, "SILVER", 1)  # older news arriving late changes nothing
    assert (await _record(kit, _purchase(partner, member, 10_000, external_id="c"))).points == 225

    now = utcnow()
    await set_points_profile(kit.db, MEMBERS, member_id=member, birthday_month=now.month, directory=TrustingDirectory())
    answer = await _record(kit, _purchase(partner, member, 10_000, external_id="d", at=now))
    assert answer.points == 450 and answer.rule["birthdayBps"] == 20_000
    other_month = now.replace(day=1) - timedelta(days=1)
    assert (await _record(kit, _purchase(partner, member, 10_000, external_id="e", at=other_month))).points == 225

    await earning.set_earning_policy(kit.db, OPERATOR, tier_multipliers={"GOLD": 30_000}, birthday_multiplier=10_000)
    assert (await _record(kit, _purchase(partner, member, 10_000, external_id="f", at=now))).points == 450


async def test_campaigns_apply_within_their_window_and_the_best_one_counts(kit) -> None:  # noqa: ANN001
    partner, other = await kit.partner(), await kit.partner()
    member = uuid.uuid4()
    start = datetime(2026, 11, 1, tzinfo=UTC)
    await earning.create_campaign(kit.db, OPERATOR, name="double", multiplier_bps=20_000, starts_at=start,
                                  ends_at=start + timedelta(days=10), partner_id=partner.id, category=None)
    await earning.create_campaign(kit.db, OPERATOR, name="shoes triple", multiplier_bps=30_000, starts_at=start,
                                  ends_at=start + timedelta(days=10), partner_id=None, category="shoes")
    inside, outside = start + timedelta(days=2), start + timedelta(days=11)
    now = start + timedelta(days=12)
    cases = [
        (_purchase(partner, member, 1000, external_id="1", at=inside), 20),
        (_purchase(partner, member, 1000, external_id="2", at=inside, category="shoes"), 30),
        (_purchase(other, member, 1000, external_id="3", at=inside), 10),
        (_purchase(partner, member, 1000, external_id="4", at=outside), 10),
    ]
    for item, points in cases:
        assert (await _record(kit, item, now=now)).points == points, item
    ended = await earning.create_campaign(kit.db, OPERATOR, name="later", multiplier_bps=50_000, starts_at=now + timedelta(days=1),
                                          ends_at=now + timedelta(days=5), partner_id=None, category=None)
    assert await earning.end_campaign(kit.db, OPERATOR, ended.id, at=now) is None  # never started: removed


async def test_points_are_pending_for_the_return_window(kit) -> None:  # noqa: ANN001
    partner = await kit.partner(window=7)
    member = uuid.uuid4()
    at = utcnow()
    answer = await _record(kit, _purchase(partner, member, 5000, at=at))
    assert answer.pending and answer.vests_at == at + timedelta(days=7)
    late = await _record(kit, _purchase(partner, member, 5000, external_id="late", at=at - timedelta(days=8)))
    assert not late.pending  # its window had already passed when it was recorded
    balances = await kit.balances(member)
    assert (balances.pending, balances.available) == (50, 50)


async def test_a_purchase_is_recorded_once_per_partner_and_external_id(kit) -> None:  # noqa: ANN001
    partner = await kit.partner()
    member = uuid.uuid4()
    item = _purchase(partner, member, 2500)
    first = await _record(kit, item)
    again = await _record(kit, item)
    assert again == first
    with pytest.raises(IdempotencyKeyReused):
        await _record(kit, _purchase(partner, member, 9999, at=item.occurred_at))
    other_partner = await kit.partner()
    assert (await _record(kit, _purchase(other_partner, member, 2500, at=item.occurred_at))).purchase_id != first.purchase_id
    assert (await kit.balances(member)).available == 50
    assert await _count(kit, PURCHASES) == 2
    await kit.assert_consistent()


async def test_each_new_purchase_publishes_purchase_recorded_to_members(kit) -> None:  # noqa: ANN001
    partner = await kit.partner()
    member = uuid.uuid4()
    item = _purchase(partner, member, 1234, category="food")
    await _record(kit, item)
    await _record(kit, item)  # a replay publishes nothing more
    async with kit.db.engine.connect() as c:
        events = (await c.execute(select(OUTBOX.events).where(OUTBOX.events.c.type == PURCHASE_RECORDED))).all()
        deliveries = (await c.execute(select(OUTBOX.deliveries.c.subscriber))).scalars().all()
    (event,) = events
    assert event.payload == {
        "memberId": str(member), "amountMinor": 1234, "currency": "CNY", "occurredAt": item.occurred_at.isoformat(),
        "partnerId": str(partner.id), "externalId": "order-1",
    }
    assert event.producer == "points" and deliveries == ["members"]


async def test_bulk_ingestion_answers_each_item_and_writes_nothing_for_a_bad_one(kit) -> None:  # noqa: ANN001
    partner, stranger = await kit.partner(), await kit.partner()
    known, unknown = uuid.uuid4(), uuid.uuid4()
    at = utcnow()
    items = [
        _purchase(partner, known, 1000, external_id="ok-1"),
        _purchase(partner, known, 0, external_id="zero"),
        _purchase(partner, known, 1000, external_id="usd", currency="USD"),
        _purchase(partner, unknown, 1000, external_id="who"),
        PurchaseInput(uuid.uuid4(), known, "no-partner", 1000, "CNY", utcnow()),
        _purchase(stranger, known, 1000, external_id="theirs"),
        _purchase(partner, known, 1000, external_id="future", at=utcnow() + timedelta(hours=1)),
        _purchase(partner, known, 2000, external_id="ok-2", at=at),
        _purchase(partner, known, 2000, external_id="ok-2", at=at),  # repeated in the batch: same answer
        _purchase(partner, known, 3000, external_id="ok-2", at=at),  # same key, other content
    ]
    results = await earning.record_purchases(kit.db, as_partner(partner.id), items, directory=StaticDirectory({known}))
    codes = [r.code if isinstance(r, DomainError) else "OK" for r in results]
    assert codes == ["OK", "BAD_USER_INPUT", "BAD_USER_INPUT", "NOT_FOUND", "FORBIDDEN", "FORBIDDEN", "BAD_USER_INPUT",
                     "OK", "OK", "IDEMPOTENCY_KEY_REUSED"]
    assert results[7] == results[8]
    assert (await kit.balances(known)).available == 30
    assert await _count(kit, PURCHASES) == 2
    await kit.assert_consistent()


async def test_bulk_ingestion_is_capped(kit) -> None:  # noqa: ANN001
    partner = await kit.partner()
    items = [_purchase(partner, uuid.uuid4(), 100, external_id=str(i)) for i in range(get_points_settings().max_bulk_purchases + 1)]
    with pytest.raises(InvalidInput):
        await earning.record_purchases(kit.db, SERVICE, items, directory=TrustingDirectory())
    assert await _count(kit, PURCHASES) == 0


async def test_a_partner_cannot_record_for_another_partner(kit) -> None:  # noqa: ANN001
    mine, theirs = await kit.partner(), await kit.partner()
    with pytest.raises(Forbidden):
        await earning.record_purchase(kit.db, as_partner(mine.id), _purchase(theirs, uuid.uuid4(), 100), directory=TrustingDirectory())
    assert await _count(kit, PURCHASES) == 0


async def test_unknown_members_are_refused(kit) -> None:  # noqa: ANN001
    partner = await kit.partner()
    with pytest.raises(NotFound):
        await _record(kit, _purchase(partner, uuid.uuid4(), 100), directory=StaticDirectory(set()))
    assert await _count(kit, PURCHASES) == 0


async def test_partner_expiry_is_never_shorter_than_the_minimum(kit) -> None:  # noqa: ANN001
    with pytest.raises(InvalidInput) as caught:
        await set_programme(kit.db, OPERATOR, partner_id=uuid.uuid4(), currency="CNY", expiry_months=6)
    assert caught.value.extensions["minimum"] == 12
    with pytest.raises(InvalidInput):
        await set_programme(kit.db, OPERATOR, partner_id=uuid.uuid4(), currency="cny")


async def _return(kit, partner, amount: int, *, key: str, external_id: str = "order-1", currency: str = "CNY"):  # noqa: ANN001, ANN202
    return await earning.record_return(kit.db, SERVICE, partner_id=partner.id, external_id=external_id, return_key=key,
                                       amount_minor=amount, currency=currency)


async def test_returns_claw_back_in_proportion_and_never_more_than_earned(kit) -> None:  # noqa: ANN001
    partner = await kit.partner()
    member = uuid.uuid4()
    await _record(kit, _purchase(partner, member, 1000))  # 10 points
    first = await _return(kit, partner, 333, key="r1")
    second = await _return(kit, partner, 333, key="r2")
    third = await _return(kit, partner, 334, key="r3")
    assert [first.points_clawed_back, second.points_clawed_back, third.points_clawed_back] == [3, 3, 4]
    with pytest.raises(InvalidInput):
        await _return(kit, partner, 1, key="r4")
    assert await _return(kit, partner, 333, key="r1") == first  # a replay changes nothing
    balances = await kit.balances(member)
    assert (balances.available, balances.lifetime_earned) == (0, 0)
    async with kit.db.engine.connect() as c:
        returned = (await c.execute(select(OUTBOX.events.c.payload).where(OUTBOX.events.c.type == PURCHASE_RETURNED))).scalars().all()
    assert sorted(p["amountMinor"] for p in returned) == [333, 333, 334]  # members takes the growth back
    assert {(p["memberId"], p["currency"], p["externalId"]) for p in returned} == {(str(member), "CNY", "order-1")}
    await kit.assert_consistent()


async def test_a_return_takes_its_own_lot_first_then_other_points_then_makes_debt(kit) -> None:  # noqa: ANN001
    partner, other, beneficiary = await kit.partner(), await kit.partner(), await kit.partner()
    member = uuid.uuid4()
    own = await _record(kit, _purchase(partner, member, 10_000))  # 100 points
    await kit.earn(member, other, 30)
    hold = await kit.hold(member, 110)  # all 100 of the own lot (earned first, so expiring first) and 10 more
    await kit.capture(hold.id, 110, beneficiary)
    left = await kit.balances(member)
    assert left.available == 20
    answer = await _return(kit, partner, 10_000, key="full")
    assert answer.points_clawed_back == 100
    assert (answer.from_purchase_lot, answer.from_other_lots, answer.as_debt) == (0, 20, 80)
    balances = await kit.balances(member)
    assert (balances.available, balances.debt) == (0, 80)
    assert own.lot_id is not None

    # The next credits repay the debt before they become available.
    await kit.earn(member, other, 50)
    balances = await kit.balances(member)
    assert (balances.available, balances.debt) == (0, 30)
    await kit.earn(member, other, 50)
    balances = await kit.balances(member)
    assert (balances.available, balances.debt) == (20, 0)
    await kit.assert_consistent()


async def test_pending_credits_repay_debt_when_they_vest(kit) -> None:  # noqa: ANN001
    shop, slow, beneficiary = await kit.partner(), await kit.partner(window=7), await kit.partner()
    member = uuid.uuid4()
    await _record(kit, _purchase(shop, member, 5000))
    hold = await kit.hold(member, 50)
    await kit.capture(hold.id, 50, beneficiary)
    await _return(kit, shop, 5000, key="all")
    await _record(kit, _purchase(slow, member, 8000, external_id="slow"))
    balances = await kit.balances(member)
    assert (balances.pending, balances.debt) == (80, 50)
    await run_vesting(kit.db, now=utcnow() + timedelta(days=8))
    balances = await kit.balances(member)
    assert (balances.pending, balances.available, balances.debt) == (0, 30, 0)
    async with kit.db.engine.connect() as c:
        lot = (await c.execute(select(LOTS).where(LOTS.c.issuer_partner_id == slow.id))).one()
    assert lot.remaining == 30
    await kit.assert_consistent()


async def test_a_return_of_a_pending_purchase_takes_its_pending_points(kit) -> None:  # noqa: ANN001
    partner = await kit.partner(window=7)
    member = uuid.uuid4()
    await _record(kit, _purchase(partner, member, 4000))
    answer = await _return(kit, partner, 1000, key="quarter")
    assert (answer.points_clawed_back, answer.from_purchase_lot) == (10, 10)
    assert (await kit.balances(member)).pending == 30
    await kit.assert_consistent()


async def test_bad_returns_are_typed_errors_and_write_nothing(kit) -> None:  # noqa: ANN001
    partner = await kit.partner()
    await _record(kit, _purchase(partner, uuid.uuid4(), 1000))
    with pytest.raises(InvalidInput):
        await _return(kit, partner, 100, key="x", currency="USD")
    with pytest.raises(NotFound):
        await _return(kit, partner, 100, key="y", external_id="nope")
    with pytest.raises(InvalidInput):
        await _return(kit, partner, 0, key="z")
    with pytest.raises(InvalidInput):
        await _return(kit, partner, 1001, key="w")
    async with kit.db.engine.connect() as c:
        assert (await c.execute(select(PURCHASES.c.returned_minor))).scalar_one() == 0
