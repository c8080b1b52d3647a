"""Reservations through the service layer: each step, its replays, stock for codes and recharges,
who may call them, and the expiry job."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from codes_kit import CS, OPERATOR, SERVICE, Kit, member_principal, partner_principal

from services.benefits.codes import service as codes_service
from services.benefits.errors import AlreadyUsed, Expired, NotAvailable, OutOfStock
from services.benefits.reservations import expiry
from services.benefits.reservations import service as reservations
from services.benefits.writeoffs import service as writeoffs
from shared.auth.principals import ANONYMOUS
from shared.errors import Conflict, Forbidden, IdempotencyKeyReused, InvalidInput, NotFound, Unauthenticated
from shared.timeutil import utcnow


async def _stock(kit: Kit, benefit_id: uuid.UUID):  # noqa: ANN202
    (stock,) = await codes_service.stocks(kit.db, OPERATOR, [benefit_id])
    return stock


async def test_a_code_goes_reserved_issued_and_its_replays_answer_the_first_time(kit: Kit) -> None:
    partner, benefit, codes = await kit.pool(3, validity_days=10)
    member = uuid.uuid4()
    reserved = await reservations.reserve(kit.db, SERVICE, benefit_id=benefit, member_id=member, key="redeem-1", ttl_seconds=60)
    assert reserved.state == "RESERVED" and reserved.masked_code == "••••••0000"  # the oldest code first
    assert reserved.settlement_minor == 500 and reserved.currency == "CNY"
    assert reserved.expires_at - reserved.created_at == timedelta(seconds=60)
    assert (await _stock(kit, benefit)).model_dump(include={"available", "reserved"}) == {"available": 2, "reserved": 1}
    assert await reservations.reserve(kit.db, SERVICE, benefit_id=benefit, member_id=member, key="redeem-1", ttl_seconds=60) == reserved
    with pytest.raises(IdempotencyKeyReused):
        await reservations.reserve(kit.db, SERVICE, benefit_id=benefit, member_id=uuid.uuid4(), key="redeem-1", ttl_seconds=60)

    issued = await reservations.issue(kit.db, SERVICE, key="redeem-1", delivery_reference="app-push-7")
    assert issued.code == codes[0] and issued.reservation.state == "ISSUED"
    assert issued.reservation.delivery_reference == "app-push-7"
    assert issued.valid_until - issued.reservation.issued_at == timedelta(days=10)
    assert await reservations.issue(kit.db, SERVICE, key="redeem-1", delivery_reference="app-push-7") == issued
    with pytest.raises(IdempotencyKeyReused):
        await reservations.issue(kit.db, SERVICE, key="redeem-1", delivery_reference="another")
    stock = await _stock(kit, benefit)
    assert (stock.available, stock.reserved, stock.issued, stock.total) == (2, 0, 1, 3)
    # the stored answers never hold the code in clear
    assert await kit.scalar("SELECT count(*) FROM benefits.idempotency_keys WHERE response::text LIKE :c", c=f"%{codes[0]}%") == 0
    page = await codes_service.member_codes(kit.db, member_principal(member), member_id=member)
    assert [(c.code, c.state, c.valid_until) for c in page.rows] == [(codes[0], "ISSUED", issued.valid_until)]


async def test_release_gives_the_code_back_and_is_harmless_twice(kit: Kit) -> None:
    _, benefit, codes = await kit.pool(1)
    await reservations.reserve(kit.db, SERVICE, benefit_id=benefit, member_id=uuid.uuid4(), key="r1")
    with pytest.raises(OutOfStock):
        await reservations.reserve(kit.db, SERVICE, benefit_id=benefit, member_id=uuid.uuid4(), key="r2")
    released = await reservations.release(kit.db, SERVICE, key="r1")
    assert released.state == "RELEASED" and released.released_at is not None
    assert await reservations.release(kit.db, SERVICE, key="r1") == released
    assert (await _stock(kit, benefit)).available == 1
    again = await reservations.reserve(kit.db, SERVICE, benefit_id=benefit, member_id=uuid.uuid4(), key="r2")
    assert again.code_id == released.code_id  # the same code, free again
    with pytest.raises(Conflict) as refused:
        await reservations.issue(kit.db, SERVICE, key="r1")
    assert refused.value.extensions["state"] == "RELEASED"
    with pytest.raises(Conflict):
        await reservations.void(kit.db, SERVICE, key="r1")


async def test_void_takes_back_only_an_issued_unused_code(kit: Kit) -> None:
    partner, benefit, codes = await kit.pool(3)
    member = uuid.uuid4()
    await reservations.reserve(kit.db, SERVICE, benefit_id=benefit, member_id=member, key="v1")
    with pytest.raises(Conflict):  # not issued yet: release it instead
        await reservations.void(kit.db, SERVICE, key="v1")
    await reservations.issue(kit.db, SERVICE, key="v1")
    with pytest.raises(Conflict):  # issued: void it instead
        await reservations.release(kit.db, SERVICE, key="v1")
    voided = await reservations.void(kit.db, SERVICE, key="v1")
    assert voided.state == "VOIDED"
    assert await reservations.void(kit.db, SERVICE, key="v1") == voided
    stock = await _stock(kit, benefit)
    assert (stock.voided, stock.issued, stock.available) == (1, 0, 2)  # a voided code is never issued again

    used = await kit.issued(benefit, member)
    await writeoffs.write_off(kit.db, partner_principal(partner), code=used.code, store_id="s1", idempotency_key="w1")
    with pytest.raises(AlreadyUsed):
        await reservations.void(kit.db, SERVICE, key=used.reservation.key)

    late = await kit.issued(benefit, member)
    with pytest.raises(Expired):
        await reservations.void(kit.db, SERVICE, key=late.reservation.key, now=utcnow() + timedelta(days=31))


async def test_recharges_reserve_from_counters_or_without_limit(kit: Kit) -> None:
    partner = await kit.partner()
    limited = await kit.benefit(partner, delivery="RECHARGE", stock_total=2)
    unlimited = await kit.benefit(partner, delivery="RECHARGE", stock_total=None)
    a = await reservations.reserve(kit.db, SERVICE, benefit_id=limited, member_id=uuid.uuid4(), key="a")
    assert a.code_id is None and a.masked_code is None
    await reservations.reserve(kit.db, SERVICE, benefit_id=limited, member_id=uuid.uuid4(), key="b")
    with pytest.raises(OutOfStock):
        await reservations.reserve(kit.db, SERVICE, benefit_id=limited, member_id=uuid.uuid4(), key="c")
    issued = await reservations.issue(kit.db, SERVICE, key="a", delivery_reference="platform-order-1")
    assert issued.code is None and issued.valid_until is None
    await reservations.release(kit.db, SERVICE, key="b")
    stock = await _stock(kit, limited)
    assert (stock.available, stock.reserved, stock.issued, stock.total) == (1, 0, 1, 2)
    await reservations.void(kit.db, SERVICE, key="a")
    assert (await _stock(kit, limited)).available == 2
    for i in range(5):
        await reservations.reserve(kit.db, SERVICE, benefit_id=unlimited, member_id=uuid.uuid4(), key=f"u{i}")
    stock = await _stock(kit, unlimited)
    assert (stock.available, stock.reserved, stock.total) == (None, 5, None)


async def test_only_active_benefits_in_their_window_are_reserved(kit: Kit) -> None:
    partner, benefit, _ = await kit.pool(2)
    now = utcnow()
    for status in ("DRAFT", "PAUSED", "RETIRED"):
        await kit.set_status(benefit, status)
        with pytest.raises(NotAvailable):
            await reservations.reserve(kit.db, SERVICE, benefit_id=benefit, member_id=uuid.uuid4(), key=kit.key())
    later = await kit.benefit(partner, available_from=now + timedelta(days=1))
    over = await kit.benefit(partner, available_from=now - timedelta(days=2), available_until=now - timedelta(days=1))
    ended = await kit.benefit(partner, valid_until=now - timedelta(seconds=1))
    for benefit_id in (later, over, ended):
        with pytest.raises(NotAvailable):
            await reservations.reserve(kit.db, SERVICE, benefit_id=benefit_id, member_id=uuid.uuid4(), key=kit.key())
    with pytest.raises(NotFound):
        await reservations.reserve(kit.db, SERVICE, benefit_id=uuid.uuid4(), member_id=uuid.uuid4(), key=kit.key())
    assert await kit.scalar("SELECT count(*) FROM benefits.reservations") == 0


async def test_validity_is_the_earlier_of_days_after_issue_and_the_benefit_end(kit: Kit) -> None:
    end = utcnow() + timedelta(days=3)
    _, benefit, _ = await kit.pool(1, validity_days=30, valid_until=end)
    assert (await kit.issued(benefit)).valid_until == end
    _, forever, _ = await kit.pool(1, validity_days=None)
    assert (await kit.issued(forever)).valid_until is None


async def test_bad_input_and_unknown_keys(kit: Kit) -> None:
    _, benefit, _ = await kit.pool(1)
    for ttl in (0, 9, 86_401, -5):
        with pytest.raises(InvalidInput):
            await reservations.reserve(kit.db, SERVICE, benefit_id=benefit, member_id=uuid.uuid4(), key=kit.key(), ttl_seconds=ttl)
    for key in ("", "x" * 201):
        with pytest.raises(InvalidInput):
            await reservations.reserve(kit.db, SERVICE, benefit_id=benefit, member_id=uuid.uuid4(), key=key)
    with pytest.raises(InvalidInput):
        await reservations.issue(kit.db, SERVICE, key="k", delivery_reference="r" * 201)
    for step in (reservations.issue, reservations.release, reservations.void):
        with pytest.raises(NotFound):
            await step(kit.db, SERVICE, key="no-such-key")


async def test_only_alliance_services_run_the_steps(kit: Kit) -> None:
    partner, benefit, _ = await kit.pool(1)
    await reservations.reserve(kit.db, SERVICE, benefit_id=benefit, member_id=uuid.uuid4(), key="mine")
    others = [(OPERATOR, Forbidden), (CS, Forbidden), (partner_principal(partner), Forbidden),
              (member_principal(uuid.uuid4()), Forbidden), (ANONYMOUS, Unauthenticated)]
    for who, error in others:
        with pytest.raises(error):
            await reservations.reserve(kit.db, who, benefit_id=benefit, member_id=uuid.uuid4(), key=kit.key())
        for step in (reservations.issue, reservations.release, reservations.void):
            with pytest.raises(error):
                await step(kit.db, who, key="mine")
    assert (await reservations.reservations(kit.db, OPERATOR, ["mine"]))[0].state == "RESERVED"
    assert (await reservations.reservations(kit.db, CS, ["mine", "none"]))[1] is None
    with pytest.raises(Forbidden):
        await reservations.reservations(kit.db, partner_principal(partner), ["mine"])


async def test_the_job_releases_late_reservations_and_expires_codes_once(kit: Kit) -> None:
    _, benefit, _ = await kit.pool(4, validity_days=1)
    now = utcnow()
    await reservations.reserve(kit.db, SERVICE, benefit_id=benefit, member_id=uuid.uuid4(), key="late", ttl_seconds=30)
    await reservations.reserve(kit.db, SERVICE, benefit_id=benefit, member_id=uuid.uuid4(), key="fresh", ttl_seconds=3600)
    issued = await kit.issued(benefit)
    assert (await expiry.run(kit.db, OPERATOR, now=now + timedelta(seconds=60))).model_dump() == {
        "released_reservations": 1, "expired_codes": 0}
    assert (await reservations.reservations(kit.db, SERVICE, ["late"]))[0].state == "RELEASED"
    # a late issue after the job released it is refused; before that it would still have worked
    with pytest.raises(Conflict):
        await reservations.issue(kit.db, SERVICE, key="late")
    assert (await reservations.issue(kit.db, SERVICE, key="fresh", now=now + timedelta(hours=2))).reservation.state == "ISSUED"
    day_after = now + timedelta(days=1, hours=1)  # past the first code's validity, not the one issued 2 hours later
    assert (await expiry.run(kit.db, OPERATOR, expiry.Job.EXPIRE_CODES, now=day_after)).expired_codes == 1
    assert (await expiry.run(kit.db, OPERATOR, now=day_after)).model_dump() == {"released_reservations": 0, "expired_codes": 0}
    stock = await _stock(kit, benefit)
    assert (stock.expired, stock.issued, stock.available) == (1, 1, 2)
    with pytest.raises(Expired):
        await reservations.void(kit.db, SERVICE, key=issued.reservation.key)
    for who in (SERVICE, CS, partner_principal(uuid.uuid4())):
        with pytest.raises(Forbidden):
            await expiry.run(kit.db, who)


async def test_the_job_works_in_batches(kit: Kit) -> None:
    _, benefit, _ = await kit.pool(25)
    for i in range(25):
        await reservations.reserve(kit.db, SERVICE, benefit_id=benefit, member_id=uuid.uuid4(), key=f"b{i}", ttl_seconds=10)
    assert await expiry.release_expired(kit.db, utcnow() + timedelta(seconds=11), batch=4) == 25
    assert (await _stock(kit, benefit)).available == 25
