"""revokeRecharge (refunds, or a delivery given up) and the case it exists for: a recharge that the
partner made while the reservation ran out of time."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
import respx
from sqlalchemy import text

from shared.errors import Conflict, InvalidInput

from services.benefits.delivery import service as delivery
from services.benefits.delivery.outcomes import Attempt, AttemptKind, AttemptOutcome, Delivered
from services.benefits.errors import DeliveryUnknown, PartnerRefused
from services.benefits.reservations import service as reservations
from tests.benefits.delivery.delivery_kit import Video, add_benefit, partner_api, refused, status_url, succeeded
from tests.benefits.kit import SERVICE


async def _delivered(video: Video, reference: str = "SBX-1") -> str:
    reserved = await video.reserve()
    with respx.mock(assert_all_called=False) as partner:
        recharge, _, _ = partner_api(partner)
        recharge.mock(return_value=succeeded(reference))
        await delivery.deliver_recharge(video.db, SERVICE, key=reserved.key, account="alice")
    return reserved.key


async def test_revoking_an_issued_recharge_voids_the_reservation(video: Video) -> None:
    key = await _delivered(video)
    assert await video.stock() == (0, 1)
    with respx.mock(assert_all_called=False) as partner:
        _, _, revoke = partner_api(partner)
        revoke.mock(return_value=httpx.Response(200, json={"status": "REVOKED"}))
        voided = await delivery.revoke_recharge(video.db, SERVICE, key=key)
        again = await delivery.revoke_recharge(video.db, SERVICE, key=key)  # idempotent at the partner too
    assert voided.state == again.state == "VOIDED" and voided.released_at is not None
    assert await video.stock() == (0, 0)
    request = revoke.calls.last.request
    assert str(request.url) == f"{status_url(key)}/revoke" and request.content == b""
    video.verify(request)
    assert [(a.request, a.outcome) for a in await video.logged(key)] == [
        ("RECHARGE", "SUCCEEDED"), ("REVOKE", "REVOKED"), ("REVOKE", "REVOKED")]
    with pytest.raises(Conflict) as error:  # delivered once, then taken back: not delivered again
        await delivery.deliver_recharge(video.db, SERVICE, key=key, account="alice")
    assert error.value.extensions["state"] == "VOIDED"


@pytest.mark.parametrize(("answer", "reason"), [
    (refused("ALREADY_CONSUMED", "the member watched it"), "ALREADY_CONSUMED"),
    (httpx.Response(405), "REVOKE_NOT_SUPPORTED"),
])
async def test_a_refused_revoke_changes_nothing(video: Video, answer: httpx.Response, reason: str) -> None:
    key = await _delivered(video)
    with respx.mock(assert_all_called=False) as partner:
        _, _, revoke = partner_api(partner)
        revoke.mock(return_value=answer)
        with pytest.raises(PartnerRefused) as error:
            await delivery.revoke_recharge(video.db, SERVICE, key=key)
    assert error.value.extensions["reason"] == reason and "revoke" in error.value.message
    assert await video.state(key) == "ISSUED" and await video.stock() == (0, 1)


async def test_an_unanswered_revoke_is_unknown_and_changes_nothing(video: Video) -> None:
    key = await _delivered(video)
    with respx.mock(assert_all_called=False) as partner:
        _, _, revoke = partner_api(partner)
        revoke.mock(side_effect=httpx.ConnectError("down"))
        with pytest.raises(DeliveryUnknown) as error:
            await delivery.revoke_recharge(video.db, SERVICE, key=key)
    assert error.value.extensions["attempts"] == 6 and await video.state(key) == "ISSUED"
    assert [a.outcome for a in await video.logged(key)][1:] == ["NOT_SENT"] * 6


async def test_a_delivery_given_up_is_revoked_then_released(video: Video) -> None:
    """An unknown outcome the saga gives up on: revoking bars the key, so a late recharge under it is refused."""
    reserved = await video.reserve()
    with respx.mock(assert_all_called=False) as partner:
        recharge, status, revoke = partner_api(partner)
        recharge.mock(return_value=httpx.Response(503))
        status.mock(return_value=httpx.Response(503))
        with pytest.raises(DeliveryUnknown):
            await delivery.deliver_recharge(video.db, SERVICE, key=reserved.key, account="alice")
        revoke.mock(return_value=httpx.Response(200, json={"status": "REVOKED"}))
        still = await delivery.revoke_recharge(video.db, SERVICE, key=reserved.key)
        assert still.state == "RESERVED"  # the caller releases it
        recharge.mock(return_value=refused("REVOKED", "this recharge was revoked"))
        with pytest.raises(PartnerRefused) as error:
            await delivery.deliver_recharge(video.db, SERVICE, key=reserved.key, account="alice")
    assert error.value.extensions["reason"] == "REVOKED"
    assert (await reservations.release(video.db, SERVICE, key=reserved.key)).state == "RELEASED"


class _SlowPartner:
    """Delivers, but only after the reservation's time ran out and the expiry job released it."""

    def __init__(self, video: Video, key: str) -> None:
        self.video, self.key = video, key

    async def recharge(self, endpoint, request):  # noqa: ANN001, ANN201
        await reservations.release(self.video.db, SERVICE, key=self.key)
        attempt = Attempt(datetime.now(UTC), AttemptKind.RECHARGE, 200, None, 12000.0, AttemptOutcome.SUCCEEDED, "SBX-late")
        return Delivered("SBX-late", (attempt,))


async def test_a_recharge_delivered_after_the_reservation_was_released_is_logged_and_reported(video: Video) -> None:
    reserved = await video.reserve()
    with pytest.raises(Conflict) as error:
        await delivery.deliver_recharge(video.db, SERVICE, key=reserved.key, account="alice",
                                        client=_SlowPartner(video, reserved.key))  # type: ignore[arg-type]
    assert error.value.extensions["deliveryReference"] == "SBX-late" and "revokeRecharge" in error.value.message
    assert await video.state(reserved.key) == "RELEASED" and await video.stock() == (0, 0)
    (logged,) = await video.logged(reserved.key)
    assert (logged.outcome, logged.detail, logged.latency_ms) == ("SUCCEEDED", "SBX-late", 12000)
    with respx.mock(assert_all_called=False) as partner:
        _, _, revoke = partner_api(partner)
        revoke.mock(return_value=httpx.Response(200, json={"status": "REVOKED"}))
        answer = await delivery.revoke_recharge(video.db, SERVICE, key=reserved.key)
    assert answer.state == "RELEASED" and revoke.call_count == 1


async def test_a_code_benefit_is_neither_delivered_nor_revoked_here(video: Video) -> None:
    codes = await add_benefit(video.db, video.partner_id, delivery="CODE", duration_days=None, stock_total=None)
    async with video.db.transaction() as session:  # one code in its pool, written straight in
        await session.exec(text(  # type: ignore[call-overload]
            """INSERT INTO benefits.codes (id, benefit_id, code_hash, code_encrypted, last4, state, created_at)
               VALUES (gen_random_uuid(), :b, '\\x01', '\\x02', 'AB12', 'AVAILABLE', now())"""), params={"b": codes})
    reserved = await video.reserve(benefit_id=codes)
    with respx.mock(assert_all_called=False) as partner:
        partner_api(partner)
        for call in (delivery.deliver_recharge(video.db, SERVICE, key=reserved.key, account="alice"),
                     delivery.revoke_recharge(video.db, SERVICE, key=reserved.key)):
            with pytest.raises(InvalidInput) as error:
                await call
            assert error.value.extensions["field"] == "key" and "code" in error.value.message
        assert partner.calls.call_count == 0
