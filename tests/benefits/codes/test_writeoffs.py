"""Write-off (核销) through the service layer: only the owner's issued, valid codes, typed refusals
that do not reveal other pools, the audit and its event, undo within the window, and the lists."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from services.benefits.config import reset_benefits_settings_cache
from codes_kit import CS, OPERATOR, SERVICE, Kit, member_principal, partner_principal

from services.benefits.codes import service as codes_service
from services.benefits.errors import AlreadyUsed, Expired, NotYours
from services.benefits.reservations import expiry
from services.benefits.reservations import service as reservations
from services.benefits.writeoffs import service as writeoffs
from shared.auth.principals import ANONYMOUS
from shared.errors import Conflict, Forbidden, IdempotencyKeyReused, InvalidInput, NotFound, Unauthenticated
from shared.timeutil import utcnow


async def test_a_write_off_uses_the_code_audits_it_and_tells_the_owner_and_the_redemption(
    kit: Kit, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ABG_BENEFITS_REDEMPTION_EVENT_SUBSCRIBERS", "redemptions")
    reset_benefits_settings_cache()
    partner, benefit, _ = await kit.pool(3)
    member = uuid.uuid4()
    issued = await kit.issued(benefit, member)
    me = partner_principal(partner)
    done = await writeoffs.write_off(kit.db, me, code=issued.code, store_id="store-42", idempotency_key="w1")
    assert done.code == issued.code  # in clear in its own answer only
    assert (done.store_id, done.member_id, done.benefit_id, done.reservation_key) == ("store-42", member, benefit, issued.reservation.key)
    assert done.created_by == f"partner:{partner}" and done.undoable_until == done.created_at + timedelta(seconds=900)
    assert await writeoffs.write_off(kit.db, me, code=issued.code, store_id="store-42", idempotency_key="w1") == done
    with pytest.raises(IdempotencyKeyReused):
        await writeoffs.write_off(kit.db, me, code=issued.code, store_id="store-43", idempotency_key="w1")
    with pytest.raises(AlreadyUsed):
        await writeoffs.write_off(kit.db, me, code=issued.code, store_id="store-42", idempotency_key="w2")
    (event,) = await kit.events("benefits.CodeWrittenOff")
    assert event == {
        "partnerId": str(partner), "benefitId": str(benefit), "codeId": str(done.code_id), "writeOffId": str(done.id),
        "reservationKey": issued.reservation.key, "memberId": str(member), "storeId": "store-42",
        "occurredAt": done.created_at.isoformat(),
    }
    assert await kit.scalar("SELECT array_agg(subscriber ORDER BY subscriber)::text FROM benefits.outbox_deliveries") == "{redemptions,webhooks}"
    page = await codes_service.member_codes(kit.db, member_principal(member), member_id=member)
    assert page.rows[0].state == "USED" and page.rows[0].used_at == done.created_at


async def test_codes_are_found_without_their_separators_and_upper_case_ones_in_any_case(kit: Kit) -> None:
    partner = await kit.partner()
    benefit = await kit.benefit(partner)
    await kit.upload(benefit, partner, ["AB-CD-1234", "Ab-Cd-5678"])
    await kit.issued(benefit)
    await kit.issued(benefit)
    me = partner_principal(partner)
    assert (await writeoffs.write_off(kit.db, me, code=" ab cd1234 ", store_id="s", idempotency_key="t1")).code == "AB-CD-1234"
    with pytest.raises(NotYours):  # a mixed-case code keeps its case (a platform may tell them apart)
        await writeoffs.write_off(kit.db, me, code="abcd5678", store_id="s", idempotency_key="t2")
    assert (await writeoffs.write_off(kit.db, me, code="AbCd 5678", store_id="s", idempotency_key="t3")).code == "Ab-Cd-5678"


async def test_not_yours_says_the_same_for_another_partners_code_and_for_no_code(kit: Kit) -> None:
    partner, benefit, _ = await kit.pool(2)
    issued = await kit.issued(benefit)
    stranger = partner_principal(await kit.partner())
    with pytest.raises(NotYours) as theirs:
        await writeoffs.write_off(kit.db, stranger, code=issued.code, store_id="s", idempotency_key="n1")
    with pytest.raises(NotYours) as nobody:
        await writeoffs.write_off(kit.db, stranger, code="NO-SUCH-CODE-1", store_id="s", idempotency_key="n2")
    assert (theirs.value.message, theirs.value.extensions) == (nobody.value.message, nobody.value.extensions)
    # and the code is untouched for its owner
    assert (await writeoffs.write_off(kit.db, partner_principal(partner), code=issued.code, store_id="s", idempotency_key="n3")).code


async def test_only_issued_codes_within_their_validity_are_written_off(kit: Kit) -> None:
    partner, benefit, codes = await kit.pool(4, validity_days=1)
    me = partner_principal(partner)
    with pytest.raises(Conflict) as not_issued:  # still in the pool
        await writeoffs.write_off(kit.db, me, code=codes[3], store_id="s", idempotency_key=kit.key())
    assert not_issued.value.extensions["state"] == "AVAILABLE"
    late = await kit.issued(benefit)
    with pytest.raises(Expired):  # past its validity, before the job marked it
        await writeoffs.write_off(kit.db, me, code=late.code, store_id="s", idempotency_key=kit.key(), now=utcnow() + timedelta(days=2))
    await expiry.run(kit.db, OPERATOR, now=utcnow() + timedelta(days=2))
    with pytest.raises(Expired):  # and after
        await writeoffs.write_off(kit.db, me, code=late.code, store_id="s", idempotency_key=kit.key())
    refunded = await kit.issued(benefit)
    await reservations.void(kit.db, SERVICE, key=refunded.reservation.key)
    with pytest.raises(Conflict) as voided:
        await writeoffs.write_off(kit.db, me, code=refunded.code, store_id="s", idempotency_key=kit.key())
    assert voided.value.extensions["state"] == "VOIDED"
    assert await kit.scalar("SELECT count(*) FROM benefits.write_offs") == 0


async def test_undo_within_the_window_by_the_same_partner(kit: Kit) -> None:
    partner, benefit, _ = await kit.pool(3)
    me = partner_principal(partner)
    issued = await kit.issued(benefit)
    done = await writeoffs.write_off(kit.db, me, code=issued.code, store_id="s", idempotency_key="w1")
    with pytest.raises(NotFound):  # another partner does not even learn it exists
        await writeoffs.undo(kit.db, partner_principal(await kit.partner()), write_off_id=done.id, idempotency_key="u1")
    with pytest.raises(NotFound):
        await writeoffs.undo(kit.db, me, write_off_id=uuid.uuid4(), idempotency_key="u1")
    undone = await writeoffs.undo(kit.db, me, write_off_id=done.id, idempotency_key="u1")
    assert undone.undone_at is not None and undone.undone_by == f"partner:{partner}" and undone.code is None
    assert await writeoffs.undo(kit.db, me, write_off_id=done.id, idempotency_key="u1") == undone
    with pytest.raises(Conflict):
        await writeoffs.undo(kit.db, me, write_off_id=done.id, idempotency_key="u2")
    (event,) = await kit.events("benefits.CodeWriteOffUndone")
    assert event["writeOffId"] == str(done.id)
    # the code is ISSUED again: written off anew, then the window closes
    again = await writeoffs.write_off(kit.db, me, code=issued.code, store_id="s", idempotency_key="w2")
    with pytest.raises(Conflict) as closed:
        await writeoffs.undo(kit.db, me, write_off_id=again.id, idempotency_key="u3", now=again.created_at + timedelta(seconds=901))
    assert "900 seconds" in closed.value.message and closed.value.extensions["undoableUntil"] == again.undoable_until.isoformat()
    stock = (await codes_service.stocks(kit.db, me, [benefit]))[0]
    assert stock.used == 1  # type: ignore[union-attr]


async def test_who_may_write_off_and_bad_input(kit: Kit) -> None:
    partner, benefit, _ = await kit.pool(2)
    issued = await kit.issued(benefit)
    for who, error in ((OPERATOR, Forbidden), (CS, Forbidden), (SERVICE, Forbidden), (member_principal(uuid.uuid4()), Forbidden),
                       (ANONYMOUS, Unauthenticated)):
        with pytest.raises(error):
            await writeoffs.write_off(kit.db, who, code=issued.code, store_id="s", idempotency_key=kit.key())
        with pytest.raises(error):
            await writeoffs.undo(kit.db, who, write_off_id=uuid.uuid4(), idempotency_key=kit.key())
    me = partner_principal(partner)
    for code, store, field in (("", "s", "code"), (" - ", "s", "code"), ("x" * 201, "s", "code"), (issued.code, "", "storeId"),
                               (issued.code, "s" * 101, "storeId"), (issued.code, "a\nb", "storeId")):
        with pytest.raises(InvalidInput) as refused:
            await writeoffs.write_off(kit.db, me, code=code, store_id=store, idempotency_key=kit.key())
        assert refused.value.extensions["field"] == field
    with pytest.raises(InvalidInput):
        await writeoffs.write_off(kit.db, me, code=issued.code, store_id="s", idempotency_key="")


async def test_write_off_lists_and_usage_counts(kit: Kit) -> None:
    partner, benefit, _ = await kit.pool(6)
    other_benefit = await kit.benefit(partner)
    await kit.upload(other_benefit, partner, ["OTHER-1"])
    me = partner_principal(partner)
    start = utcnow()
    done = []
    for i in range(4):
        issued = await kit.issued(benefit)
        if i < 3:
            done.append(await writeoffs.write_off(kit.db, me, code=issued.code, store_id=f"s{i}", idempotency_key=f"w{i}"))
    page = await writeoffs.write_offs(kit.db, me, partner_id=partner, first=2)
    assert [w.id for w in page.rows] == [done[2].id, done[1].id] and page.has_next_page
    assert all(w.code is None and w.masked_code.startswith("••••••") for w in page.rows)
    rest = await writeoffs.write_offs(kit.db, CS, partner_id=partner, first=2, after=page.end_cursor)
    assert [w.id for w in rest.rows] == [done[0].id] and not rest.has_next_page
    window = await writeoffs.write_offs(kit.db, OPERATOR, partner_id=partner, since=done[1].created_at, until=done[2].created_at)
    assert [w.id for w in window.rows] == [done[1].id]
    assert (await writeoffs.write_offs(kit.db, me, partner_id=partner, since=start - timedelta(days=1), until=start)).rows == []
    with pytest.raises(InvalidInput):
        await writeoffs.write_offs(kit.db, me, partner_id=partner, since=start, until=start)
    with pytest.raises(InvalidInput):
        await writeoffs.write_offs(kit.db, me, partner_id=partner, after="not-a-cursor")
    for who in (partner_principal(await kit.partner()), member_principal(uuid.uuid4()), SERVICE):
        with pytest.raises(Forbidden):
            await writeoffs.write_offs(kit.db, who, partner_id=partner)
    usage = {u.benefit_id: (u.issued, u.used, u.rate) for u in await codes_service.usage(kit.db, me, partner_id=partner)}
    assert usage == {benefit: (4, 3, 0.75), other_benefit: (0, 0, None)}
    assert await codes_service.usage(kit.db, SERVICE, partner_id=partner)
    with pytest.raises(Forbidden):
        await codes_service.usage(kit.db, partner_principal(await kit.partner()), partner_id=partner)
