"""Reading pools and the owner's low-stock threshold: who sees stock and codes, masked or in clear."""

from __future__ import annotations

import uuid

import pytest
from codes_kit import CS, OPERATOR, SERVICE, Kit, member_principal, partner_principal

from services.benefits.codes import service as codes_service
from services.benefits.reservations import service as reservations
from shared.auth.principals import ANONYMOUS
from shared.errors import Forbidden, InvalidInput, NotFound, Unauthenticated


async def test_stock_is_seen_by_all_for_active_benefits_and_the_threshold_by_its_managers(kit: Kit) -> None:
    partner, benefit, _ = await kit.pool(4, threshold=2)
    draft = await kit.benefit(partner, status="DRAFT")
    member = member_principal(uuid.uuid4())
    stranger = partner_principal(await kit.partner())
    for who in (member, stranger, SERVICE, CS, OPERATOR, partner_principal(partner)):
        (stock,) = await codes_service.stocks(kit.db, who, [benefit])
        assert stock.available == 4 and stock.total == 4  # type: ignore[union-attr]
        manages = who in (CS, OPERATOR) or who == partner_principal(partner)
        assert stock.low_stock_threshold == (2 if manages else None)  # type: ignore[union-attr]
    for who in (member, stranger):
        (hidden,) = await codes_service.stocks(kit.db, who, [draft])
        assert isinstance(hidden, Forbidden)
    (missing,) = await codes_service.stocks(kit.db, OPERATOR, [uuid.uuid4()])
    assert isinstance(missing, NotFound)
    (anonymous,) = await codes_service.stocks(kit.db, ANONYMOUS, [benefit])
    assert isinstance(anonymous, Unauthenticated)


async def test_setting_a_threshold_rearms_the_alert_and_fires_at_once_if_already_low(kit: Kit) -> None:
    partner, benefit, _ = await kit.pool(5)
    me = partner_principal(partner)
    stock = await codes_service.set_low_stock_threshold(kit.db, me, benefit_id=benefit, threshold=3)
    assert (stock.low_stock_threshold, stock.low_stock_alerted) == (3, False)
    assert await kit.events("benefits.LowStock") == []
    stock = await codes_service.set_low_stock_threshold(kit.db, OPERATOR, benefit_id=benefit, threshold=6)
    assert stock.low_stock_alerted is True
    (alert,) = await kit.events("benefits.LowStock")
    assert alert == {"partnerId": str(partner), "benefitId": str(benefit), "available": 5, "threshold": 6}
    off = await codes_service.set_low_stock_threshold(kit.db, me, benefit_id=benefit, threshold=None)
    assert (off.low_stock_threshold, off.low_stock_alerted) == (None, False)
    for _ in range(5):
        await kit.issued(benefit)
    assert len(await kit.events("benefits.LowStock")) == 1


async def test_recharge_thresholds_count_from_the_counters(kit: Kit) -> None:
    partner = await kit.partner()
    limited = await kit.benefit(partner, delivery="RECHARGE", stock_total=3)
    unlimited = await kit.benefit(partner, delivery="RECHARGE")
    me = partner_principal(partner)
    await codes_service.set_low_stock_threshold(kit.db, me, benefit_id=limited, threshold=2)
    await reservations.reserve(kit.db, SERVICE, benefit_id=limited, member_id=uuid.uuid4(), key="a")
    assert await kit.events("benefits.LowStock") == []
    await reservations.reserve(kit.db, SERVICE, benefit_id=limited, member_id=uuid.uuid4(), key="b")
    (alert,) = await kit.events("benefits.LowStock")
    assert alert["available"] == 1
    with pytest.raises(InvalidInput):
        await codes_service.set_low_stock_threshold(kit.db, me, benefit_id=unlimited, threshold=2)


async def test_who_may_set_a_threshold_and_bad_values(kit: Kit) -> None:
    partner, benefit, _ = await kit.pool(1)
    for who, error in ((partner_principal(await kit.partner()), Forbidden), (CS, Forbidden), (SERVICE, Forbidden),
                       (member_principal(uuid.uuid4()), Forbidden), (ANONYMOUS, Unauthenticated)):
        with pytest.raises(error):
            await codes_service.set_low_stock_threshold(kit.db, who, benefit_id=benefit, threshold=1)
    for bad in (0, -1, 10_000_001, True):
        with pytest.raises(InvalidInput):
            await codes_service.set_low_stock_threshold(kit.db, OPERATOR, benefit_id=benefit, threshold=bad)  # type: ignore[arg-type]
    with pytest.raises(NotFound):
        await codes_service.set_low_stock_threshold(kit.db, OPERATOR, benefit_id=uuid.uuid4(), threshold=1)


async def test_a_members_codes_are_in_clear_for_the_member_and_masked_for_staff(kit: Kit) -> None:
    _, benefit, codes = await kit.pool(3)
    _, other_benefit, other_codes = await kit.pool(1)
    member = uuid.uuid4()
    await kit.issued(benefit, member)
    await kit.issued(other_benefit, member)
    await kit.issued(benefit)  # someone else's
    mine = await codes_service.member_codes(kit.db, member_principal(member), member_id=member)
    assert [c.code for c in mine.rows] == [other_codes[0], codes[0]] and all(c.clear for c in mine.rows)  # newest first
    for staff in (CS, OPERATOR):
        masked = await codes_service.member_codes(kit.db, staff, member_id=member)
        assert [c.code for c in masked.rows] == [f"••••••{other_codes[0][-4:]}", f"••••••{codes[0][-4:]}"]
        assert not any(c.clear for c in masked.rows)
    for who in (member_principal(uuid.uuid4()), partner_principal(uuid.uuid4()), SERVICE):
        with pytest.raises(Forbidden):
            await codes_service.member_codes(kit.db, who, member_id=member)
    with pytest.raises(Unauthenticated):
        await codes_service.member_codes(kit.db, ANONYMOUS, member_id=member)
    first = await codes_service.member_codes(kit.db, member_principal(member), member_id=member, first=1)
    second = await codes_service.member_codes(kit.db, member_principal(member), member_id=member, first=1, after=first.end_cursor)
    assert [c.code for c in first.rows + second.rows] == [other_codes[0], codes[0]] and not second.has_next_page


async def test_a_pool_is_listed_masked_for_its_partner_and_staff(kit: Kit) -> None:
    partner, benefit, codes = await kit.pool(5)
    await kit.issued(benefit)
    for who in (partner_principal(partner), CS, OPERATOR):
        page = await codes_service.benefit_codes(kit.db, who, benefit_id=benefit, first=3)
        assert [c.code for c in page.rows] == [f"••••••{c[-4:]}" for c in codes[:3]] and page.has_next_page
        issued = await codes_service.benefit_codes(kit.db, who, benefit_id=benefit, state="ISSUED")
        assert len(issued.rows) == 1 and issued.rows[0].member_id is not None
    rest = await codes_service.benefit_codes(kit.db, OPERATOR, benefit_id=benefit, first=3, after=page.end_cursor)
    assert len(rest.rows) == 2
    for who, error in ((partner_principal(await kit.partner()), Forbidden), (member_principal(uuid.uuid4()), Forbidden),
                       (SERVICE, Forbidden), (ANONYMOUS, Unauthenticated)):
        with pytest.raises(error):
            await codes_service.benefit_codes(kit.db, who, benefit_id=benefit)
    with pytest.raises(InvalidInput):
        await codes_service.benefit_codes(kit.db, OPERATOR, benefit_id=benefit, state="LOST")
    with pytest.raises(InvalidInput):
        await codes_service.benefit_codes(kit.db, OPERATOR, benefit_id=benefit, first=0)
    with pytest.raises(NotFound):
        await codes_service.benefit_codes(kit.db, OPERATOR, benefit_id=uuid.uuid4())
