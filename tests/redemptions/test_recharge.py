"""Redeeming a video membership delivered by direct recharge, end to end: the saga in this process,
points and members as real processes, benefits served in this process (`benefits_here`) so that
respx can play the partner's fulfilment API (CONTRACT.md) and nothing else.

The partner is a small fake that keeps the contract's promise (at most one delivery per idempotency
key, every repeat answered with the first answer, every request signed with its fulfilment secret),
scripted per test to lose answers, refuse, fail with 5xx or answer slowly. Each test checks that the
redemption ends in a consistent state with the right status: the partner delivered at most once,
the member's points are captured exactly when the recharge was delivered, and the ledger balances.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import httpx
import orjson
import pytest
import respx
import sqlalchemy as sa

from shared.errors import Conflict, Forbidden, IdempotencyKeyReused, InvalidInput
from shared.settings import reset_settings_cache

from services.benefits.config import reset_benefits_settings_cache
from services.benefits.webhooks.signing import SIGNATURE_HEADER, SignatureRejected, verify
from services.redemptions.attention.service import fail_redemption, retry_redemption
from services.redemptions.config import reset_redemptions_settings_cache
from services.redemptions.redeeming import service as redeeming
from services.redemptions.redeeming.answers import RedemptionAnswer
from services.redemptions.saga.driver import resume_due
from tests.redemptions.kit import OPERATOR, World, benefits_gql, member_principal, tune

FULFILMENT = "https://video.streambox.example/abg"
RECHARGES = f"{FULFILMENT}/recharges"
POINTS, SETTLEMENT, STOCK = 300, 1500, 5

_RUN_JOBS = """mutation { runBenefitsJob(job: RELEASE_EXPIRED_RESERVATIONS) { releasedReservations } }"""
_ROTATE = """mutation($id: ID!) { rotateFulfilmentSecret(partnerId: $id) { secret } }"""


# --- the partner ----------------------------------------------------------------------------------


@dataclass
class FakePartner:
    """A fulfilment API keeping CONTRACT.md's promise. `script` says what happens to the next
    recharge requests, one entry each (then `default`):

    - "ok": delivered (once per key) and answered;
    - "refuse": refused (422, ACCOUNT_NOT_FOUND), and every repeat of the key too;
    - "lost_request": the request times out before the partner got it (nothing delivered);
    - "lost_answer": delivered, but the answer times out on the way back;
    - "slow": delivered and answered after `delay` seconds.

    While `down`, every request (status lookups included) is a 503; with `delivers_when_down`, a
    recharge request is delivered all the same before its 503 (the contract allows for it: a 5xx
    is not an answer)."""

    secret: str
    script: list[str] = field(default_factory=list)
    default: str = "ok"
    down: bool = False
    delivers_when_down: bool = False
    delay: float = 0.0
    revokes: bool = False  # offers revocation (the contract's optional endpoint)
    deliveries: dict[str, str] = field(default_factory=dict)  # key -> reference: value actually moved
    refusals: set[str] = field(default_factory=set)
    bodies: dict[str, dict[str, Any]] = field(default_factory=dict)  # key -> the first body under it
    requests: list[tuple[str, str]] = field(default_factory=list)  # (POST|GET|REVOKE, key), in order

    def _signed(self, request: httpx.Request) -> bool:
        try:
            verify(request.headers.get(SIGNATURE_HEADER), request.content, [self.secret], now=time.time())
        except SignatureRejected:
            return False
        return True

    async def recharge(self, request: httpx.Request) -> httpx.Response:
        if not self._signed(request):
            return httpx.Response(401)
        sent = orjson.loads(request.content)
        key = sent["idempotencyKey"]
        self.requests.append(("POST", key))
        if self.down:
            if self.delivers_when_down:
                self.bodies.setdefault(key, sent)
                self.deliveries.setdefault(key, f"SBX-{len(self.deliveries) + 1}")
            return httpx.Response(503, json={"error": "try later"})
        action = self.script.pop(0) if self.script else self.default
        if action == "lost_request":
            raise httpx.ReadTimeout("no answer", request=request)
        if self.bodies.setdefault(key, sent) != sent:
            return httpx.Response(409, json={"error": "this key was used with another body"})
        if action == "slow":
            await asyncio.sleep(self.delay)
        if key in self.refusals or (action == "refuse" and key not in self.deliveries):
            self.refusals.add(key)
            return httpx.Response(422, json={"status": "REFUSED", "reason": "ACCOUNT_NOT_FOUND",
                                             "message": f"no account named {sent['account']}"})
        reference = self.deliveries.setdefault(key, f"SBX-{len(self.deliveries) + 1}")
        if action == "lost_answer":
            raise httpx.ReadTimeout("the answer was lost", request=request)
        return httpx.Response(200, json={"status": "SUCCEEDED", "reference": reference})

    async def status(self, request: httpx.Request) -> httpx.Response:
        if not self._signed(request):
            return httpx.Response(401)
        key = unquote(request.url.raw_path.decode().rsplit("/", 1)[1])
        self.requests.append(("GET", key))
        if self.down:
            return httpx.Response(503)
        if key in self.deliveries:
            return httpx.Response(200, json={"status": "SUCCEEDED", "reference": self.deliveries[key]})
        if key in self.refusals:
            return httpx.Response(200, json={"status": "REFUSED", "reason": "ACCOUNT_NOT_FOUND"})
        return httpx.Response(404, json={"status": "UNKNOWN"})

    def revoke(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(("REVOKE", request.url.path))
        if not self.revokes:
            return httpx.Response(501)
        for key in [k for k in self.deliveries if f"/{k}/revoke" in request.url.path]:
            self.deliveries.pop(key)
        return httpx.Response(200, json={"status": "REVOKED"})

    def keys(self) -> set[str]:
        return {key for _, key in self.requests}

    def posts(self) -> int:
        return sum(1 for kind, _ in self.requests if kind == "POST")


@dataclass
class Streambox:
    """A video partner with a fulfilment endpoint and secret, one recharge benefit of it, and the
    fake playing its fulfilment API."""

    world: World
    partner_id: uuid.UUID
    benefit_id: uuid.UUID
    api: FakePartner

    async def reservation(self, redemption_id: uuid.UUID) -> tuple[str, str | None]:
        (row,) = await self.world.rows("SELECT state, delivery_reference FROM benefits.reservations WHERE key = :k",
                                       k=f"redemption:{redemption_id}")
        return row.state, row.delivery_reference

    async def stock(self) -> tuple[int, int]:
        (row,) = await self.world.rows("SELECT stock_reserved, stock_issued FROM benefits.benefits WHERE id = :id",
                                       id=self.benefit_id)
        return row.stock_reserved, row.stock_issued


def tune_all(monkeypatch: pytest.MonkeyPatch, **values: str) -> None:
    """`tune`, for benefits served in this process too."""
    tune(monkeypatch, **values)
    reset_benefits_settings_cache()


@pytest.fixture
def quick_partner_retries(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Benefits backs off in milliseconds between requests to the partner (the bounds stay the
    defaults unless a test tunes them)."""
    tune_all(monkeypatch, ABG_BENEFITS_RECHARGE_RETRY_BASE_SECONDS="0.01", ABG_BENEFITS_RECHARGE_RETRY_MAX_SECONDS="0.05")
    yield
    monkeypatch.undo()
    reset_settings_cache()
    reset_redemptions_settings_cache()
    reset_benefits_settings_cache()


@pytest.fixture
async def streambox(world: World, benefits_here: str, quick_partner_retries: None) -> AsyncIterator[Streambox]:
    partner_id = await world.partner(name="StreamBox Video", fulfilmentUrl=FULFILMENT)
    secret = (await benefits_gql(world.db, _ROTATE, id=str(partner_id)))["rotateFulfilmentSecret"]["secret"]
    benefit_id = await world.benefit(partner_id, kind="VIDEO_MEMBERSHIP", delivery="RECHARGE", points=POINTS,
                                     settlement=SETTLEMENT, stockTotal=STOCK)
    api = FakePartner(secret)
    # Only the partner is mocked: our own services (all on 127.0.0.1) are called for real, and any
    # other host would fail the test (assert_all_mocked).
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as mock:
        mock.route(host="127.0.0.1").pass_through()
        mock.post(RECHARGES, name="recharge").mock(side_effect=api.recharge)
        mock.get(url__regex=rf"^{RECHARGES}/[^/]+$", name="status").mock(side_effect=api.status)
        mock.post(url__regex=rf"^{RECHARGES}/[^/]+/revoke$", name="revoke").mock(side_effect=api.revoke)
        yield Streambox(world, partner_id, benefit_id, api)


# --- helpers --------------------------------------------------------------------------------------


async def read(world: World, done: RedemptionAnswer) -> RedemptionAnswer:
    assert done.member_id is not None
    return await redeeming.answer(world.db, member_principal(done.member_id), done.id)


async def resume_until(world: World, done: RedemptionAnswer, *, leaves: str = "PENDING", within: float = 30.0) -> RedemptionAnswer:
    """Rounds of the recovery loop (which does not run in this process) until the redemption's
    status is no longer `leaves`."""
    deadline = time.monotonic() + within
    while (found := await read(world, done)).status == leaves:
        assert time.monotonic() < deadline, f"still {leaves} after {within} s: {found.timeline}"
        await resume_due(world.db)
        await asyncio.sleep(0.05)
    return found


def steps(done: RedemptionAnswer) -> list[tuple[str, str]]:
    return [(s.step, s.outcome) for s in done.timeline]


def why(done: RedemptionAnswer) -> Any:
    return done.status, done.failure_code, done.failure_message, done.attention_reason, steps(done)


async def assert_completed(box: Streambox, done: RedemptionAnswer, member: uuid.UUID, *, before: int) -> None:
    """COMPLETED: delivered once under the redemption's key, the reservation issued with the
    partner's reference, the points captured with settlement, the ledger balanced."""
    key = f"abg.r.redemption:{done.id}"
    assert done.status == "COMPLETED", why(done)
    assert box.api.deliveries == {key: done.recharge_reference}, (box.api.deliveries, done.recharge_reference)
    assert box.api.keys() == {key}, box.api.requests  # the same key on every request, whatever happened
    assert (done.settlement_minor, done.currency, done.step) == (SETTLEMENT, "CNY", "DONE")
    assert await box.reservation(done.id) == ("ISSUED", done.recharge_reference)
    assert await box.stock() == (0, 1)
    balances = await box.world.balances(member)
    assert (balances.available, balances.held, balances.lifetime_spent) == (before - POINTS, 0, POINTS)
    await box.world.ledger_ok()


# --- the tests ------------------------------------------------------------------------------------


async def test_a_member_redeems_a_recharge_and_the_partner_delivers_it(streambox: Streambox) -> None:
    world = streambox.world
    member = await world.member(points=1000)

    done = await world.redeem(member, streambox.benefit_id, account="alice@streambox")

    await assert_completed(streambox, done, member, before=1000)
    assert done.recharge_reference == "SBX-1" and done.delivery == "RECHARGE" and done.code is None
    assert steps(done) == [("ADMIT", "DONE"), ("HOLD", "DONE"), ("RESERVE", "DONE"), ("DELIVER", "DONE"),
                           ("CAPTURE", "DONE"), ("COMPLETE", "DONE")]
    (sent,) = streambox.api.bodies.values()
    assert (sent["account"], sent["durationDays"], sent["benefitId"]) == ("alice@streambox", 30, str(streambox.benefit_id))
    assert streambox.api.requests == [("POST", f"abg.r.redemption:{done.id}")]  # no lookup needed


@pytest.mark.parametrize("lost", ["lost_answer", "lost_request"])
async def test_a_timed_out_recharge_is_resolved_with_the_same_key_and_delivered_once(streambox: Streambox, lost: str) -> None:
    """The first request times out: the partner either delivered and the answer was lost, or never
    got it. Benefits looks the key up before posting again (CONTRACT.md), so either way the member
    gets one recharge and the redemption completes."""
    world = streambox.world
    member = await world.member(points=1000)
    streambox.api.script = [lost]

    done = await world.redeem(member, streambox.benefit_id, account="alice@streambox")

    await assert_completed(streambox, done, member, before=1000)
    key = f"abg.r.redemption:{done.id}"
    if lost == "lost_answer":  # the lookup finds it delivered: no second post
        assert streambox.api.requests == [("POST", key), ("GET", key)]
    else:  # the lookup says UNKNOWN: posting again under the same key is safe
        assert streambox.api.requests == [("POST", key), ("GET", key), ("POST", key)]
    attempts = await world.rows(
        """SELECT a.request, a.outcome FROM benefits.delivery_attempts a
           JOIN benefits.reservations r ON r.id = a.reservation_id WHERE r.key = :k ORDER BY a.id""",
        k=f"redemption:{done.id}")
    assert [a.request for a in attempts] == [kind.replace("GET", "STATUS").replace("POST", "RECHARGE")
                                            for kind, _ in streambox.api.requests]
    assert attempts[0].outcome == "UNANSWERED" and attempts[-1].outcome == "SUCCEEDED"


async def test_a_refused_recharge_fails_the_redemption_and_gives_everything_back(streambox: Streambox) -> None:
    world = streambox.world
    member = await world.member(points=1000)
    streambox.api.default = "refuse"

    done = await world.redeem(member, streambox.benefit_id, account="nobody")

    assert done.status == "FAILED" and done.failure_code == "PARTNER_REFUSED", why(done)
    assert done.failure_message and "ACCOUNT_NOT_FOUND" in done.failure_message
    assert done.recharge_reference is None and done.step == "DONE"
    assert steps(done)[-2:] == [("DELIVER", "REFUSED"), ("RELEASE", "DONE")]
    assert streambox.api.deliveries == {} and streambox.api.posts() == 1  # a refusal is final: not asked again
    assert await streambox.reservation(done.id) == ("RELEASED", None)
    assert await streambox.stock() == (0, 0)
    balances = await world.balances(member)
    assert (balances.available, balances.held, balances.lifetime_spent) == (1000, 0, 0)
    await world.ledger_ok()


async def test_a_5xx_storm_leaves_the_recharge_unknown_until_an_operator_retries_it(
    streambox: Streambox, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every request is a 503: benefits answers DELIVERY_UNKNOWN, the saga retries later with the
    same key, and past give_up_after_seconds the redemption needs attention: a recharge whose
    outcome is unknown is never given back silently (nor are the points taken). Once the partner
    is back, an operator's retry completes it, once."""
    tune_all(monkeypatch, ABG_REDEMPTIONS_GIVE_UP_AFTER_SECONDS="1", ABG_BENEFITS_RECHARGE_MAX_REQUESTS="2")
    world = streambox.world
    member = await world.member(points=1000)
    streambox.api.down = True

    first = await world.redeem(member, streambox.benefit_id, account="alice@streambox")

    assert first.status == "PENDING" and first.step == "DELIVER", why(first)
    assert ("DELIVER", "RETRY") in steps(first)
    stuck = await resume_until(world, first)
    assert stuck.status == "NEEDS_ATTENTION", why(stuck)
    assert stuck.attention_reason and "benefits" in stuck.attention_reason and "DELIVERY_UNKNOWN" in stuck.attention_reason
    assert stuck.step == "DELIVER" and stuck.failure_code is None and stuck.recharge_reference is None
    assert steps(stuck)[-1] == ("DELIVER", "NEEDS_ATTENTION")
    assert sum(1 for s in steps(stuck) if s == ("DELIVER", "RETRY")) >= 2  # retried more than once
    key = f"abg.r.redemption:{first.id}"
    assert streambox.api.keys() == {key} and streambox.api.deliveries == {}
    # nothing given back, nothing taken: the reservation and the hold wait for the operator
    assert await streambox.reservation(first.id) == ("RESERVED", None)
    assert await streambox.stock() == (1, 0)
    balances = await world.balances(member)
    assert (balances.available, balances.held, balances.lifetime_spent) == (1000 - POINTS, POINTS, 0)
    await world.ledger_ok()
    assert await resume_due(world.db) == 0  # out of the recovery loop's hands
    asked = len(streambox.api.requests)

    streambox.api.down = False  # the partner fixed its API
    await retry_redemption(world.db, OPERATOR, first.id)
    done = await resume_until(world, first)

    await assert_completed(streambox, done, member, before=1000)
    assert streambox.api.requests[asked:] == [("POST", key)]
    assert ("OPERATOR", "RETRY") in steps(done) and done.attention_reason is None
    await resume_due(world.db)  # nothing left to do: still one delivery, one capture
    assert (await read(world, done)).status == "COMPLETED" and len(streambox.api.deliveries) == 1
    balances = await world.balances(member)
    assert (balances.available, balances.held, balances.lifetime_spent) == (1000 - POINTS, 0, POINTS)


async def test_a_slow_partner_gets_a_pending_answer_and_the_saga_completes_in_the_background(
    streambox: Streambox, monkeypatch: pytest.MonkeyPatch,
) -> None:
    tune_all(monkeypatch, ABG_REDEMPTIONS_ANSWER_WITHIN_SECONDS="0.3")
    world = streambox.world
    member = await world.member(points=1000)
    streambox.api.default, streambox.api.delay = "slow", 2.0

    started = time.monotonic()
    first = await world.redeem(member, streambox.benefit_id, account="alice@streambox")
    answered_in = time.monotonic() - started

    assert first.status == "PENDING" and first.step == "DELIVER", why(first)
    assert answered_in < 2.0, answered_in  # before the partner answered (its 2 s), however busy the machine
    deadline = time.monotonic() + 20
    while (done := await read(world, first)).status == "PENDING":  # the member polls redemption(id)
        assert time.monotonic() < deadline, why(done)
        await asyncio.sleep(0.1)
    await assert_completed(streambox, done, member, before=1000)
    assert streambox.api.posts() == 1
    (deliver,) = [s for s in done.timeline if s.step == "DELIVER"]
    assert deliver.outcome == "DONE" and deliver.detail["ms"] >= 2000


async def test_a_replayed_redeem_answers_the_same_redemption_and_another_account_is_key_reuse(streambox: Streambox) -> None:
    world = streambox.world
    member = await world.member(points=1000)

    done = await world.redeem(member, streambox.benefit_id, "watch-1", account="alice@streambox")
    again = await world.redeem(member, streambox.benefit_id, "watch-1", account="alice@streambox")

    assert done.status == "COMPLETED", why(done)
    assert (again.id, again.status, again.recharge_reference) == (done.id, "COMPLETED", done.recharge_reference)
    with pytest.raises(IdempotencyKeyReused):
        await world.redeem(member, streambox.benefit_id, "watch-1", account="bob@streambox")
    assert streambox.api.posts() == 1 and len(streambox.api.deliveries) == 1
    await assert_completed(streambox, done, member, before=1000)


async def test_an_operator_fails_a_recharge_the_partner_confirms_never_arrived(
    streambox: Streambox, monkeypatch: pytest.MonkeyPatch,
) -> None:
    tune_all(monkeypatch, ABG_REDEMPTIONS_GIVE_UP_AFTER_SECONDS="0.5", ABG_BENEFITS_RECHARGE_MAX_REQUESTS="2")
    world = streambox.world
    member = await world.member(points=1000)
    streambox.api.down = True
    first = await world.redeem(member, streambox.benefit_id, account="alice@streambox")
    assert (await resume_until(world, first)).status == "NEEDS_ATTENTION"

    await fail_redemption(world.db, OPERATOR, first.id, note="StreamBox support: never arrived")
    ended = await resume_until(world, first)

    assert (ended.status, ended.failure_code) == ("FAILED", "NOT_DELIVERED"), why(ended)
    assert ("OPERATOR", "FAIL") in steps(ended)
    assert await streambox.reservation(first.id) == ("RELEASED", None)
    balances = await world.balances(member)
    assert (balances.available, balances.held, balances.lifetime_spent) == (1000, 0, 0)
    with pytest.raises(Conflict):  # decided is decided
        await fail_redemption(world.db, OPERATOR, first.id)
    with pytest.raises(Forbidden):
        await fail_redemption(world.db, member_principal(member), first.id)
    await world.ledger_ok()


async def test_a_recharge_whose_reservation_ran_out_while_unknown_is_never_given_back_silently(
    streambox: Streambox, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The partner delivered during a 5xx storm (its answers were 503s), the redemption went to
    NEEDS_ATTENTION, and the reservation ran out before an operator retried it. Benefits then
    answers CONFLICT (the reservation is released): the recharge may well have been delivered, so
    the saga must not release the member's points and end FAILED; it needs attention again."""
    tune_all(monkeypatch, ABG_REDEMPTIONS_GIVE_UP_AFTER_SECONDS="0.5", ABG_BENEFITS_RECHARGE_MAX_REQUESTS="2")
    world = streambox.world
    member = await world.member(points=1000)
    streambox.api.down = streambox.api.delivers_when_down = True

    first = await world.redeem(member, streambox.benefit_id, account="alice@streambox")
    stuck = await resume_until(world, first)
    assert stuck.status == "NEEDS_ATTENTION", why(stuck)
    key = f"abg.r.redemption:{first.id}"
    assert list(streambox.api.deliveries) == [key]  # delivered, though nobody heard it

    # the reservation's time runs out while the redemption waits for an operator
    async with world.db.transaction() as session:
        await session.exec(sa.text(  # type: ignore[call-overload]
            "UPDATE benefits.reservations SET expires_at = now() - interval '1 second' WHERE key = :k"),
            params={"k": f"redemption:{first.id}"})
    assert (await benefits_gql(world.db, _RUN_JOBS))["runBenefitsJob"]["releasedReservations"] >= 1
    assert await streambox.reservation(first.id) == ("RELEASED", None)

    streambox.api.down = False
    await retry_redemption(world.db, OPERATOR, first.id)
    again = await resume_until(world, first)

    assert again.status == "NEEDS_ATTENTION", why(again)
    assert again.attention_reason and "CONFLICT" in again.attention_reason
    assert again.step == "DELIVER" and again.failure_code is None
    balances = await world.balances(member)  # the points stay held for the operator's decision
    assert (balances.available, balances.held, balances.lifetime_spent) == (1000 - POINTS, POINTS, 0)
    assert len(streambox.api.deliveries) == 1
    await world.ledger_ok()


async def test_a_recharge_whose_reservation_ran_out_is_revoked_before_the_points_go_back(
    streambox: Streambox, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """As above, but the platform offers revocation: the saga revokes the recharge (it may have
    arrived) and only then gives the points back and fails."""
    tune_all(monkeypatch, ABG_REDEMPTIONS_GIVE_UP_AFTER_SECONDS="0.5", ABG_BENEFITS_RECHARGE_MAX_REQUESTS="2")
    world = streambox.world
    member = await world.member(points=1000)
    streambox.api.down = streambox.api.delivers_when_down = True
    streambox.api.revokes = True

    first = await world.redeem(member, streambox.benefit_id, account="alice@streambox")
    assert (await resume_until(world, first)).status == "NEEDS_ATTENTION"
    async with world.db.transaction() as session:
        await session.exec(sa.text(  # type: ignore[call-overload]
            "UPDATE benefits.reservations SET expires_at = now() - interval '1 second' WHERE key = :k"),
            params={"k": f"redemption:{first.id}"})
    assert (await benefits_gql(world.db, _RUN_JOBS))["runBenefitsJob"]["releasedReservations"] >= 1

    streambox.api.down = False
    await retry_redemption(world.db, OPERATOR, first.id)
    ended = await resume_until(world, first)

    assert (ended.status, ended.failure_code) == ("FAILED", "RESERVATION_EXPIRED"), why(ended)
    assert any(kind == "REVOKE" for kind, _ in streambox.api.requests) and streambox.api.deliveries == {}
    balances = await world.balances(member)
    assert (balances.available, balances.held, balances.lifetime_spent) == (1000, 0, 0)
    await world.ledger_ok()


async def test_an_account_benefits_cannot_recharge_is_refused_before_anything_is_held(streambox: Streambox) -> None:
    world = streambox.world
    member = await world.member(points=1000)

    with pytest.raises(InvalidInput) as error:
        await world.redeem(member, streambox.benefit_id, account="a" * 101)

    assert error.value.extensions.get("field") == "deliverTo.account"
    assert await world.scalar("SELECT count(*) FROM redemptions.redemptions WHERE member_id = :m", m=member) == 0
    assert streambox.api.requests == []
    balances = await world.balances(member)
    assert (balances.available, balances.held) == (1000, 0)
