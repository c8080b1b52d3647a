"""Property-based: random sequences of earn, return, hold, capture, release, refund, vest, expire and
time passing, over a few members, with the ledger's invariants checked after every step.

Hypothesis' state machines are synchronous, so the machine runs in a thread of its own with its
own event loop and engine, on the test's database.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import Coroutine
from datetime import timedelta
from typing import Any, TypeVar

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, multiple, rule, run_state_machine_as_test
from sqlalchemy import func, select, text

from services.points.audit.service import ledger_check, verify_chains
from services.points.directory import TrustingDirectory
from services.points.earning import service as earning
from services.points.earning.rules import PurchaseInput
from services.points.jobs import run_expiry, run_hold_expiry, run_vesting
from services.points.models import Lot
from services.points.partners.service import set_programme
from services.points.reporting.service import balances_of
from services.points.spending import service as spending
from shared.auth import OPERATOR as OPERATOR_ROLE
from shared.auth import Principal, PrincipalKind
from shared.database import Database
from shared.errors import Conflict, InsufficientPoints, InvalidInput
from shared.timeutil import utcnow

T = TypeVar("T")
CALLER = Principal(PrincipalKind.SERVICE, "redemptions")
PARTNER = Principal(PrincipalKind.SERVICE, "points")  # records for any partner
OPERATOR = Principal(PrincipalKind.STAFF, "ops", frozenset({OPERATOR_ROLE}))
LOTS = Lot.__table__


class Runner:
    """An event loop owned by the machine's thread, and an engine bound to it."""

    def __init__(self, url: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.db = Database(url, pool_size=2, max_overflow=2)

    def __call__(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coroutine)

    def close(self) -> None:
        self.loop.run_until_complete(self.db.dispose())
        self.loop.close()


RUNNER: Runner | None = None


async def _truncate(db: Database) -> None:
    async with db.engine.begin() as c:
        names = (await c.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'points' AND tablename <> 'alembic_version'"))).scalars()
        await c.execute(text("SET LOCAL abg.allow_truncate = 'on'"))  # the ledger refuses TRUNCATE otherwise
        await c.execute(text(f"TRUNCATE {', '.join(f'points.{n}' for n in names)} RESTART IDENTITY CASCADE"))


class PointsMachine(RuleBasedStateMachine):
    purchases = Bundle("purchases")
    holds = Bundle("holds")

    def __init__(self) -> None:
        super().__init__()
        assert RUNNER is not None
        self.run, self.db = RUNNER, RUNNER.db
        self.run(_truncate(self.db))
        self.now = utcnow()
        self.keys = itertools.count()
        self.issuers = [
            self.run(set_programme(self.db, OPERATOR, partner_id=uuid.uuid4(), currency="CNY", expiry_months=12, return_window_days=0, cost_per_point_minor=1)),
            self.run(set_programme(self.db, OPERATOR, partner_id=uuid.uuid4(), currency="CNY", expiry_months=24, return_window_days=7, cost_per_point_minor=2)),
        ]
        self.beneficiary = self.run(set_programme(self.db, OPERATOR, partner_id=uuid.uuid4(), currency="CNY"))
        self.members = [uuid.uuid4() for _ in range(3)]
        # The model: what each member has earned (net of clawbacks) and spent (net of refunds).
        self.earned = dict.fromkeys(self.members, 0)
        self.spent = dict.fromkeys(self.members, 0)

    def key(self) -> str:
        return f"k{next(self.keys)}"

    @initialize(target=purchases, points=st.lists(st.integers(50, 300), min_size=3, max_size=3))
    def opening_balances(self, points: list[int]):  # type: ignore[no-untyped-def]
        """Every member starts with available points, so holds have something to race for."""
        return multiple(*(self._earn(member, 0, p) for member, p in enumerate(points)))

    @rule(target=purchases, member=st.integers(0, 2), issuer=st.integers(0, 1), points=st.integers(1, 300))
    def earn(self, member: int, issuer: int, points: int) -> tuple[uuid.UUID, uuid.UUID, str, int]:
        return self._earn(member, issuer, points)

    def _earn(self, member: int, issuer: int, points: int) -> tuple[uuid.UUID, uuid.UUID, str, int]:
        partner, member_id = self.issuers[issuer], self.members[member]
        item = PurchaseInput(partner.id, member_id, self.key(), points * 100, "CNY", self.now)
        answer = self.run(earning.record_purchase(self.db, PARTNER, item, directory=TrustingDirectory(), now=self.now))
        assert answer.points == points
        self.earned[member_id] += points
        return member_id, partner.id, item.external_id, points * 100

    @rule(purchase=purchases, share=st.sampled_from([1, 2, 4]))
    def return_(self, purchase: tuple[uuid.UUID, uuid.UUID, str, int], share: int) -> None:
        member_id, partner_id, external_id, amount = purchase
        try:
            answer = self.run(
                earning.record_return(
                    self.db, PARTNER, partner_id=partner_id, external_id=external_id, return_key=self.key(),
                    amount_minor=amount // share, currency="CNY", now=self.now,
                )
            )
        except InvalidInput:
            return  # more than is left of the purchase
        assert answer.from_purchase_lot + answer.from_other_lots + answer.as_debt == answer.points_clawed_back
        self.earned[member_id] -= answer.points_clawed_back

    @rule(target=holds, member=st.integers(0, 2), points=st.integers(1, 150))
    def hold(self, member: int, points: int):  # type: ignore[no-untyped-def]
        member_id = self.members[member]
        spendable = self.run(self._spendable(member_id))
        try:
            view = self.run(
                spending.hold_points(self.db, CALLER, member_id=member_id, points=points, ttl_seconds=3600, reference="r",
                                     idempotency_key=self.key(), now=self.now)
            )
        except InsufficientPoints:
            assert spendable < points
            return multiple()
        except Exception as error:  # a member who never earned has no account yet
            assert "no points account" in str(error) and spendable == 0
            return multiple()
        assert spendable >= points
        return view.id, member_id, points

    async def _spendable(self, member_id: uuid.UUID) -> int:
        """Independently of the hold code: points in the member's vested, live lots."""
        async with self.db.engine.connect() as c:
            return (
                await c.execute(
                    select(func.coalesce(func.sum(LOTS.c.remaining), 0)).where(
                        LOTS.c.member_id == member_id, LOTS.c.vested_at.is_not(None),
                        LOTS.c.expired_at.is_(None), LOTS.c.expires_at > self.now,
                    )
                )
            ).scalar_one()

    @rule(hold=holds, fraction=st.sampled_from([1, 2, 3]))
    def capture(self, hold: tuple[uuid.UUID, uuid.UUID, int], fraction: int) -> None:
        hold_id, member_id, amount = hold
        points = max(1, amount // fraction)
        try:
            self.run(
                spending.capture_hold(self.db, CALLER, hold_id=hold_id, points=points, beneficiary_partner_id=self.beneficiary.id,
                                      value_minor=points * 3, currency="CNY", idempotency_key=self.key(), now=self.now)
            )
        except Conflict:
            return  # no longer active
        self.spent[member_id] += points

    @rule(hold=holds)
    def release(self, hold: tuple[uuid.UUID, uuid.UUID, int]) -> None:
        try:
            self.run(spending.release_hold(self.db, CALLER, hold_id=hold[0], idempotency_key=self.key(), now=self.now))
        except Conflict:
            pass

    @rule(hold=holds, points=st.integers(1, 100))
    def refund(self, hold: tuple[uuid.UUID, uuid.UUID, int], points: int) -> None:
        try:
            answer = self.run(
                spending.refund_capture(self.db, CALLER, hold_id=hold[0], points=points, idempotency_key=self.key(), now=self.now)
            )
        except (Conflict, InvalidInput):
            return  # not captured, or more than is left to refund
        assert answer.to_original_lots + answer.to_grace_lots == points
        self.spent[hold[1]] -= points

    @rule()
    def vest(self) -> None:
        self.run(run_vesting(self.db, now=self.now))

    @rule()
    def expire(self) -> None:
        self.run(run_expiry(self.db, now=self.now))

    @rule()
    def expire_holds(self) -> None:
        self.run(run_hold_expiry(self.db, now=self.now))

    @rule(days=st.sampled_from([1, 8, 30, 400]))
    def time_passes(self, days: int) -> None:
        self.now += timedelta(days=days)

    @invariant()
    def ledger_holds(self) -> None:
        check = self.run(ledger_check(self.db, OPERATOR))
        assert check.ok, check.problems
        for balances in self.run(balances_of(self.db, CALLER, self.members)):
            assert min(balances.available, balances.pending, balances.held, balances.debt) >= 0
            assert balances.lifetime_earned == self.earned[balances.member_id]
            assert balances.lifetime_spent == self.spent[balances.member_id]

    def teardown(self) -> None:
        chains = self.run(verify_chains(self.db, OPERATOR))
        assert chains.ok, chains.broken


def _run_machine(url: str) -> None:
    global RUNNER
    RUNNER = Runner(url)
    try:
        run_state_machine_as_test(
            PointsMachine,
            settings=settings(
                max_examples=40,
                stateful_step_count=40,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
                database=None,
            ),
        )
    finally:
        RUNNER.close()
        RUNNER = None


async def test_random_operation_sequences_keep_the_invariants(db: str) -> None:
    await asyncio.to_thread(_run_machine, db)
