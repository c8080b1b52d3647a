"""Crash recovery: a real redemptions process is SIGKILLed at each point of the saga in turn
(ABG_REDEMPTIONS_CRASH_AT), a fresh one started on the same database, and its recovery loop must
drive every saga left in flight to COMPLETED or FAILED, with points, codes, reservations and budget
consistent: the points ledger checks, no code is issued twice, each step is DONE once on the
timeline, and the budget spent is the settlement of what completed.

The member redeems over real HTTP through the process that crashes; that request fails (the process
dies under it), as it would for a member whose app loses the answer."""

from __future__ import annotations

import asyncio
import itertools
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from live_services import Processes, start_processes
from shared.auth.tokens import mint_token

from tests.redemptions.kit import World, benefits_gql, tune

PRICE, SETTLEMENT, START_POINTS = 300, 1200, 1000
FORWARD = ("ADMIT", "HOLD", "RESERVE", "DELIVER", "CAPTURE", "COMPLETE")
# Short leases and a fast loop: a crashed process's saga is resumed about a lease after the crash.
RECOVERY_ENV = {
    "ABG_REDEMPTIONS_LEASE_SECONDS": "1.5",
    "ABG_REDEMPTIONS_RECOVERY_INTERVAL_SECONDS": "0.2",
    "ABG_REDEMPTIONS_EVENT_SUBSCRIBERS": "",
    "ABG_REDEMPTIONS_ANSWER_WITHIN_SECONDS": "30",
}
_REDEEM = "mutation($b: ID!, $k: String!) { redeem(benefitId: $b, idempotencyKey: $k) { id status } }"
_SET_BUDGET = "mutation($input: SetBudgetInput!) { setBudget(input: $input) { id } }"


class Redemptions:
    """Redemptions processes on the test database, each started on demand and all stopped at the end."""

    def __init__(self, peers: Processes, database_url: str, log_dir: Path) -> None:
        self.peers, self.database_url, self.log_dir = peers, database_url, log_dir
        self.started: list[Processes] = []
        self._runs = itertools.count()  # started from threads at once: each its own log directory

    def start(self, crash_at: str = "") -> Processes:
        log_dir = self.log_dir / f"run-{next(self._runs)}{'-crash-' + crash_at.replace(':', '-') if crash_at else ''}"
        found = start_processes(["redemptions"], database_url=self.database_url, log_dir=log_dir, known_urls=self.peers.urls,
                                env={**RECOVERY_ENV, "ABG_REDEMPTIONS_CRASH_AT": crash_at}, timeout=60)
        self.started.append(found)
        return found

    async def start_async(self, crash_at: str = "") -> Processes:
        return await asyncio.to_thread(self.start, crash_at)

    def close(self) -> None:
        for found in self.started:
            found.close()


@pytest.fixture
def redemptions(world: World, peers: Processes, database_url: str, tmp_path: Path) -> Iterator[Redemptions]:
    # After `world` (and so `db`): these processes stop before the tables are emptied for the next test.
    found = Redemptions(peers, database_url, tmp_path)
    yield found
    found.close()


async def redeem_over_http(process: Processes, member: uuid.UUID, benefit: uuid.UUID, key: str) -> dict[str, Any] | None:
    """The member's redeem call; None when the process died before answering."""
    token = mint_token("member", str(member))
    try:
        async with httpx.AsyncClient(timeout=30.0) as client:
            response = await client.post(process.urls["redemptions"], json={"query": _REDEEM, "variables": {"b": str(benefit), "k": key}},
                                         headers={"authorization": f"Bearer {token}"})
    except httpx.TransportError:
        return None
    return response.json()


async def died_by_sigkill(process: Processes, seconds: float = 15.0) -> None:
    child = process.processes["redemptions"]
    code = await asyncio.to_thread(child.wait, seconds)
    assert code == -signal.SIGKILL, f"exit {code}:\n{process.log_tail('redemptions')}"


async def saga(world: World, member: uuid.UUID, key: str) -> Any:
    rows = await world.rows(
        "SELECT id, status, step, failure_code, hold_id, settlement_minor, code_masked, code_state, lease_owner "
        "FROM redemptions.redemptions WHERE member_id = :m AND idempotency_key = :k", m=member, k=key)
    return rows[0] if rows else None


async def settled(world: World, member: uuid.UUID, key: str, seconds: float = 30.0) -> Any:
    """The saga once it is COMPLETED or FAILED (it fails the test if it does not get there in time)."""
    deadline = time.monotonic() + seconds
    while True:
        row = await saga(world, member, key)
        if row is not None and row.status in ("COMPLETED", "FAILED"):
            return row
        assert time.monotonic() < deadline, f"saga not settled after {seconds} s: {row}"
        await asyncio.sleep(0.1)


async def timeline(world: World, redemption_id: uuid.UUID) -> list[tuple[str, str]]:
    return [(r.step, r.outcome) for r in await world.rows(
        "SELECT step, outcome FROM redemptions.redemption_steps WHERE redemption_id = :r ORDER BY id", r=redemption_id)]


def done_once(entries: list[tuple[str, str]], expected: tuple[str, ...]) -> None:
    """Each expected step DONE exactly once, in order; a resumed step may have left RETRY rows only."""
    assert [step for step, outcome in entries if outcome == "DONE"] == list(expected), entries
    assert {outcome for _, outcome in entries} <= {"DONE", "RETRY", "REFUSED"}, entries


async def budgeted_benefit(world: World, partner: uuid.UUID, codes: int) -> uuid.UUID:
    benefit = await world.benefit(partner, points=PRICE, settlement=SETTLEMENT, codes=codes)
    await benefits_gql(world.db, _SET_BUDGET, input={"benefitId": str(benefit), "limit": {"amountMinor": 10_000_000, "currency": "CNY"}})
    return benefit


async def budget(world: World, benefit: uuid.UUID) -> tuple[int, int]:
    """(reserved, spent) of the benefit's budget, over all its periods."""
    row = (await world.rows(
        "SELECT coalesce(sum(p.reserved_minor), 0) AS reserved, coalesce(sum(p.spent_minor), 0) AS spent FROM benefits.budgets b "
        "LEFT JOIN benefits.budget_periods p ON p.budget_id = b.id WHERE b.benefit_id = :b", b=benefit))[0]
    return int(row.reserved), int(row.spent)


async def codes_of(world: World, benefit: uuid.UUID) -> list[Any]:
    return await world.rows("SELECT id, state, member_id, last4 FROM benefits.codes WHERE benefit_id = :b ORDER BY id", b=benefit)


async def reservations_of(world: World, benefit: uuid.UUID) -> list[Any]:
    return await world.rows("SELECT key, state, member_id, code_id FROM benefits.reservations WHERE benefit_id = :b", b=benefit)


async def assert_completed_once(world: World, benefit: uuid.UUID, completed: dict[uuid.UUID, Any], codes: int) -> None:
    """Every saga in `completed` (member → row) captured once and holds one code of its own; the
    other codes are AVAILABLE; the budget spent is the settlement of exactly these."""
    for member, row in completed.items():
        assert row.status == "COMPLETED", row
        balances = await world.balances(member)
        assert (balances.available, balances.held, balances.lifetime_spent) == (START_POINTS - PRICE, 0, PRICE), (member, balances)
        done_once(await timeline(world, row.id), FORWARD)
    await world.ledger_ok()
    pool = await codes_of(world, benefit)
    assert len(pool) == codes
    issued = [c for c in pool if c.state == "ISSUED"]
    assert sorted(str(c.member_id) for c in issued) == sorted(str(m) for m in completed), pool  # one each, none twice
    assert all(c.state == "AVAILABLE" and c.member_id is None for c in pool if c.state != "ISSUED"), pool
    for member, row in completed.items():
        (mine,) = [c for c in issued if c.member_id == member]
        assert row.code_state == "ISSUED" and row.code_masked.endswith(mine.last4), (row, mine)
    reservations = await reservations_of(world, benefit)
    assert sorted((r.key, r.state) for r in reservations) == sorted((f"redemption:{row.id}", "ISSUED") for row in completed.values())
    assert await budget(world, benefit) == (0, SETTLEMENT * len(completed))


# Where the process dies, and the step the saga was recorded at when it did (what the restarted
# process resumes): `called` dies before the step's outcome is recorded, so the step is done again
# (with the same idempotency key); `recorded` dies right after, so the next one is.
CRASHES = {
    "ADMIT:recorded": "HOLD",
    "HOLD:called": "HOLD",
    "HOLD:recorded": "RESERVE",
    "RESERVE:called": "RESERVE",
    "RESERVE:recorded": "DELIVER",
    "DELIVER:called": "DELIVER",
    "DELIVER:recorded": "CAPTURE",
    "CAPTURE:called": "CAPTURE",
    "CAPTURE:recorded": "DONE",  # the capture is recorded with the completion, in one transaction
}


@pytest.mark.timeout(120)
@pytest.mark.parametrize("crash_at", list(CRASHES))
async def test_a_saga_crashed_at_any_step_completes_once_after_a_restart(world: World, redemptions: Redemptions, crash_at: str) -> None:
    partner = await world.partner()
    benefit = await budgeted_benefit(world, partner, codes=3)
    member = await world.member(points=START_POINTS)
    crashing = await redemptions.start_async(crash_at)

    answered = await redeem_over_http(crashing, member, benefit, "crash-key")

    await died_by_sigkill(crashing)
    assert answered is None, answered  # the member got no answer
    left = await saga(world, member, "crash-key")
    assert left is not None and left.step == CRASHES[crash_at], left
    assert left.status == ("COMPLETED" if crash_at == "CAPTURE:recorded" else "PENDING"), left

    await redemptions.start_async()  # a fresh process, no crash: its recovery loop takes the saga over
    row = await settled(world, member, "crash-key")

    await assert_completed_once(world, benefit, {member: row}, codes=3)
    assert row.settlement_minor == SETTLEMENT and row.lease_owner is None


@pytest.mark.timeout(120)
@pytest.mark.parametrize("crash_at", ["RESERVE:called", "RELEASE:called", "RELEASE:recorded"])
async def test_a_refused_saga_crashed_while_compensating_fails_and_gives_everything_back(
    world: World, redemptions: Redemptions, crash_at: str,
) -> None:
    partner = await world.partner()
    benefit = await budgeted_benefit(world, partner, codes=1)
    first, member = await world.member(points=START_POINTS), await world.member(points=START_POINTS)
    assert (await world.redeem(first, benefit)).status == "COMPLETED"  # the only code is gone
    crashing = await redemptions.start_async(crash_at)

    answered = await redeem_over_http(crashing, member, benefit, "crash-key")

    await died_by_sigkill(crashing)
    assert answered is None, answered
    left = await saga(world, member, "crash-key")
    assert left is not None and left.hold_id is not None, left
    if crash_at == "RELEASE:recorded":
        assert (left.status, left.step) == ("FAILED", "DONE"), left
    else:
        assert (left.status, left.step) == ("PENDING", crash_at.split(":")[0]), left

    await redemptions.start_async()
    row = await settled(world, member, "crash-key")

    assert (row.status, row.failure_code) == ("FAILED", "OUT_OF_STOCK"), row
    balances = await world.balances(member)
    assert (balances.available, balances.held, balances.lifetime_spent) == (START_POINTS, 0, 0), balances
    await world.ledger_ok()
    entries = await timeline(world, row.id)
    assert [step for step, outcome in entries if outcome == "DONE"] == ["ADMIT", "HOLD", "RELEASE"], entries
    assert [step for step, outcome in entries if outcome == "REFUSED"] == ["RESERVE"], entries
    (code,) = await codes_of(world, benefit)
    assert (code.state, code.member_id) == ("ISSUED", first)  # still the first member's; nothing reserved for this one
    assert [r.key for r in await reservations_of(world, benefit)] != [] and all(
        r.key != f"redemption:{row.id}" for r in await reservations_of(world, benefit))
    assert await budget(world, benefit) == (0, SETTLEMENT)  # the first member's redemption alone


@pytest.mark.timeout(120)
async def test_two_replicas_resume_the_sagas_a_crashed_process_left_each_exactly_once(world: World, redemptions: Redemptions) -> None:
    """Several sagas in flight when a process dies (the first to deliver a code kills it, the
    others stop wherever they were); two replicas already running race for them as their leases
    run out, and the lease lets exactly one drive each: every saga is captured once and gets one
    code of its own."""
    partner = await world.partner()
    benefit = await budgeted_benefit(world, partner, codes=10)
    members = [await world.member(points=START_POINTS) for _ in range(6)]
    crashing, *_ = await asyncio.gather(redemptions.start_async("DELIVER:called"), redemptions.start_async(), redemptions.start_async())

    answers = await asyncio.gather(*(redeem_over_http(crashing, m, benefit, f"key-{i}") for i, m in enumerate(members)))

    await died_by_sigkill(crashing)
    left = {m: await saga(world, m, f"key-{i}") for i, m in enumerate(members)}
    completed = {m: await settled(world, m, f"key-{i}") for i, m in enumerate(members) if left[m] is not None}

    assert completed, (answers, left)
    assert all(a is None for a, row in zip(answers, left.values()) if row is not None and row.status == "PENDING"), answers
    await assert_completed_once(world, benefit, completed, codes=10)
    for member in set(members) - set(completed):  # never admitted before the crash: nothing moved
        balances = await world.balances(member)
        assert (balances.available, balances.held) == (START_POINTS, 0)


@pytest.mark.timeout(60)
async def test_a_drive_whose_lease_ran_out_records_nothing_over_the_drive_that_took_the_saga_over(
    world: World, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A step slower than the lease (a stalled call, an overloaded host): the lease runs out while
    this process still drives the saga, and its own recovery loop finds the saga due and takes it
    over. The drive that lost its lease must record nothing more: each step DONE once, never the
    saga set back to a step it had passed."""
    from services.redemptions.peers import points as points_peer
    from services.redemptions.saga import driver

    tune(monkeypatch, ABG_REDEMPTIONS_LEASE_SECONDS="0.5", ABG_REDEMPTIONS_ANSWER_WITHIN_SECONDS="0")
    real_hold, real_capture = points_peer.hold, points_peer.capture
    holds = 0

    async def slow_first_hold(*args: Any, **kwargs: Any) -> Any:
        nonlocal holds
        holds += 1
        if holds == 1:  # the first drive's: four leases long; it answers while the second drive is capturing
            await asyncio.sleep(2.0)
        return await real_hold(*args, **kwargs)

    async def slow_capture(*args: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(3.0)
        return await real_capture(*args, **kwargs)

    monkeypatch.setattr(points_peer, "hold", slow_first_hold)
    monkeypatch.setattr(points_peer, "capture", slow_capture)
    partner = await world.partner()
    benefit = await budgeted_benefit(world, partner, codes=3)
    member = await world.member(points=START_POINTS)

    pending = await world.redeem(member, benefit, "slow-key")  # answered at once; this process drives it on
    assert pending.status == "PENDING"
    deadline = time.monotonic() + 20
    while (row := await saga(world, member, "slow-key")).status == "PENDING":  # this process's recovery loop, round after round
        assert time.monotonic() < deadline, row
        await driver.resume_due(world.db)
        await asyncio.sleep(0.1)

    await assert_completed_once(world, benefit, {member: row}, codes=3)
