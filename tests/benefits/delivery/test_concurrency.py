"""Concurrent deliverRecharge calls on one reservation, as real concurrent transactions: exactly one
issue, and the partner only ever sees one idempotency key and one account for it."""

from __future__ import annotations

import asyncio

import pytest
import respx
from sqlalchemy import text

from shared.errors import IdempotencyKeyReused

from services.benefits.delivery import service as delivery
from services.benefits.delivery.rules import recharge_key
from tests.benefits.delivery.delivery_kit import Video, body, partner_api, succeeded
from tests.benefits.kit import SERVICE


async def test_concurrent_calls_on_one_key_issue_once(video: Video) -> None:
    reserved = await video.reserve()
    with respx.mock(assert_all_called=False) as partner:
        recharge, _, _ = partner_api(partner)
        recharge.mock(return_value=succeeded("SBX-C"))  # the partner answers every repeat of a key alike
        answers = await asyncio.gather(
            *(delivery.deliver_recharge(video.db, SERVICE, key=reserved.key, account="alice") for _ in range(12))
        )
    assert {(a.state, a.delivery_reference, a.issued_at) for a in answers} == {("ISSUED", "SBX-C", answers[0].issued_at)}
    assert await video.stock() == (0, 1)
    assert {body(c.request)["idempotencyKey"] for c in recharge.calls} == {recharge_key(reserved.key)}
    assert {body(c.request)["account"] for c in recharge.calls} == {"alice"}
    assert len(await video.logged(reserved.key)) == recharge.call_count >= 1
    issues = await video.scalar("SELECT count(*) FROM benefits.idempotency_keys WHERE scope = 'benefits.issue' AND key = :k",
                                k=reserved.key)
    assert issues == 1


async def test_concurrent_calls_with_different_accounts_reach_the_partner_with_one(video: Video) -> None:
    reserved = await video.reserve()
    with respx.mock(assert_all_called=False) as partner:
        recharge, _, _ = partner_api(partner)
        recharge.mock(return_value=succeeded("SBX-D"))
        results = await asyncio.gather(
            *(delivery.deliver_recharge(video.db, SERVICE, key=reserved.key, account=f"user-{i % 2}") for i in range(8)),
            return_exceptions=True,
        )
    delivered = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, BaseException)]
    assert len(delivered) == 4 and len(refused) == 4
    assert all(isinstance(e, IdempotencyKeyReused) for e in refused)
    (account,) = {body(c.request)["account"] for c in recharge.calls}
    assert await video.state(reserved.key) == "ISSUED" and await video.stock() == (0, 1)
    assert account in ("user-0", "user-1")


@pytest.mark.parametrize("reservations", [20])
async def test_many_reservations_delivered_at_once_each_issue_once(video: Video, reservations: int) -> None:
    keys = [(await video.reserve()).key for _ in range(reservations)]
    with respx.mock(assert_all_called=False) as partner:
        recharge, _, _ = partner_api(partner)
        recharge.mock(side_effect=lambda request: succeeded(f"SBX-{body(request)['idempotencyKey'][-8:]}"))
        answers = await asyncio.gather(
            *(delivery.deliver_recharge(video.db, SERVICE, key=k, account="alice") for k in keys for _ in range(2))
        )
    assert {a.key for a in answers} == set(keys) and all(a.state == "ISSUED" for a in answers)
    assert await video.stock() == (0, reservations)
    attempts = await video.scalar("SELECT count(*) FROM benefits.delivery_attempts")
    assert attempts == recharge.call_count
    async with video.db.session() as session:
        per_key = (await session.exec(text(  # type: ignore[call-overload]
            "SELECT count(DISTINCT delivery_reference) FROM benefits.reservations WHERE key = ANY(:k)"), params={"k": keys})).scalar()
    assert per_key == reservations
