"""Business sanity at the ledger's door: purchase amount caps, daily points caps per member and
partner, and the purchase age window; each refusal is typed and names its cap."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.points.config import reset_points_settings_cache
from services.points.directory import TrustingDirectory
from services.points.earning import service as earning
from services.points.earning.limits import PointsOverDailyCap, PurchaseOverCap, PurchaseTooOld
from services.points.earning.rules import PurchaseInput
from services.points.ledger.store import known_accounts
from services.points.partners.service import set_programme
from shared.errors import InvalidInput
from shared.timeutil import utcnow
from tests.points.conftest import OPERATOR, partner_principal


async def _partner(kit, **caps):  # noqa: ANN001, ANN003, ANN202
    return await set_programme(kit.db, OPERATOR, partner_id=uuid.uuid4(), currency="CNY", return_window_days=0, **caps)


async def _record(kit, partner, member_id, amount_minor, *, at=None, key=None):  # noqa: ANN001, ANN202
    item = PurchaseInput(partner.id, member_id, key or kit.key("p"), amount_minor, "CNY", at or utcnow())
    return await earning.record_purchase(kit.db, partner_principal(partner.id), item, directory=TrustingDirectory())


async def test_a_purchase_above_the_cap_is_refused_and_credits_nothing(kit) -> None:  # noqa: ANN001
    partner = await _partner(kit)
    member = uuid.uuid4()
    with pytest.raises(PurchaseOverCap) as caught:  # 21.5 million CNY in one purchase
        await _record(kit, partner, member, 2_150_000_000)
    assert caught.value.as_extensions()["code"] == "PURCHASE_OVER_CAP"
    assert caught.value.extensions["cap"] == 10_000_000 and caught.value.extensions["currency"] == "CNY"
    assert not await known_accounts(kit.db, {member})  # refused before anything was written
    assert (await _record(kit, partner, member, 10_000_000)).points == 100_000  # at the cap: fine

    # A partner's own cap overrides the default, both ways.
    small = await _partner(kit, max_purchase_minor=50_000)
    with pytest.raises(PurchaseOverCap) as caught:
        await _record(kit, small, member, 50_001)
    assert caught.value.extensions["cap"] == 50_000
    big = await _partner(kit, max_purchase_minor=50_000_000, max_points_per_member_day=10**9)
    assert (await _record(kit, big, member, 40_000_000)).points == 400_000


async def test_the_daily_points_cap_counts_what_the_member_earned_that_day(kit) -> None:  # noqa: ANN001
    partner = await _partner(kit, max_points_per_member_day=1_000)
    member = uuid.uuid4()
    noon = utcnow().replace(hour=12, minute=0, second=0, microsecond=0) - timedelta(days=1)
    first = await _record(kit, partner, member, 60_000, at=noon, key="till-1")  # 600 points
    with pytest.raises(PointsOverDailyCap) as caught:
        await _record(kit, partner, member, 50_000, at=noon + timedelta(hours=1))  # 500 more: 1,100 > 1,000
    assert caught.value.as_extensions()["code"] == "POINTS_OVER_DAILY_CAP"
    assert (caught.value.extensions["cap"], caught.value.extensions["earnedThatDay"]) == (1_000, 600)
    assert (await _record(kit, partner, member, 40_000, at=noon + timedelta(hours=2))).points == 400  # exactly 1,000
    # Another day, another member, another partner: their own budgets.
    assert (await _record(kit, partner, member, 50_000, at=noon - timedelta(days=1))).points == 500
    assert (await _record(kit, partner, uuid.uuid4(), 50_000, at=noon)).points == 500
    assert (await _record(kit, await _partner(kit, max_points_per_member_day=1_000), member, 50_000, at=noon)).points == 500
    # A repeat of a recorded purchase answers as before; it is not counted against the cap again.
    again = await _record(kit, partner, member, 60_000, at=noon, key="till-1")
    assert again.purchase_id == first.purchase_id
    assert (await kit.balances(member)).available == 600 + 400 + 500 + 500
    await kit.assert_consistent()


async def test_a_batch_is_capped_item_by_item(kit) -> None:  # noqa: ANN001
    partner = await _partner(kit, max_points_per_member_day=1_000)
    member, at = uuid.uuid4(), utcnow()
    items = [PurchaseInput(partner.id, member, f"b-{i}", 40_000, "CNY", at) for i in range(3)]  # 400 each
    results = await earning.record_purchases(kit.db, partner_principal(partner.id), items, directory=TrustingDirectory())
    assert [getattr(r, "points", None) for r in results[:2]] == [400, 400]
    assert isinstance(results[2], PointsOverDailyCap)
    assert (await kit.balances(member)).available == 800


async def test_purchases_older_than_the_window_are_refused(kit, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("ABG_POINTS_MAX_PURCHASE_AGE_DAYS", "90")
    reset_points_settings_cache()
    partner = await _partner(kit)
    member = uuid.uuid4()
    with pytest.raises(PurchaseTooOld) as caught:
        await _record(kit, partner, member, 10_000, at=datetime(1970, 1, 1, tzinfo=UTC))
    assert caught.value.as_extensions()["code"] == "PURCHASE_TOO_OLD" and caught.value.extensions["maxAgeDays"] == 90
    with pytest.raises(PurchaseTooOld):
        await _record(kit, partner, member, 10_000, at=utcnow() - timedelta(days=91))
    assert (await _record(kit, partner, member, 10_000, at=utcnow() - timedelta(days=89))).points == 100
    strict = await _partner(kit, max_purchase_age_days=7)
    with pytest.raises(PurchaseTooOld) as caught:
        await _record(kit, strict, member, 10_000, at=utcnow() - timedelta(days=8))
    assert caught.value.extensions["maxAgeDays"] == 7


@pytest.mark.parametrize("caps", [{"max_purchase_minor": 0}, {"max_points_per_member_day": -1}, {"max_purchase_age_days": True}])
async def test_a_cap_must_be_positive(kit, caps) -> None:  # noqa: ANN001
    with pytest.raises(InvalidInput):
        await _partner(kit, **caps)
