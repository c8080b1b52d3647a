"""Fixtures for the points tests: a clean database and a small kit to set up partners and members."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import datetime

import pytest

from services.points import service
from services.points.answers import HoldView, PurchaseAnswer
from services.points.checks import ledger_check, verify_chains
from services.points.directory import TrustingDirectory
from services.points.config import get_points_settings, reset_points_settings_cache
from services.points.partners import PartnerProgram, set_partner
from services.points.purchases import PurchaseInput
from services.points.reads import Balances, balances_of
from shared.database import Database, get_database
from shared.timeutil import utcnow

# Shared test helpers (the suite imports with importlib, so their folder goes on the path).

SERVICE = "service:redemptions"
OPERATOR = "staff:ops"


@pytest.fixture(autouse=True)
def points_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Points without a members service (tests that check unknown members pass a directory), and
    no background jobs."""
    monkeypatch.setenv("ABG_POINTS_MEMBER_CHECK", "trust")
    monkeypatch.setenv("ABG_POINTS_JOB_INTERVAL_SECONDS", "0")
    reset_points_settings_cache()
    yield
    reset_points_settings_cache()


class Kit:
    """Short ways to put points where a test needs them, through the service layer."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._keys = itertools.count()

    def key(self, prefix: str = "k") -> str:
        return f"{prefix}-{next(self._keys)}-{uuid.uuid4().hex[:6]}"

    async def partner(self, *, currency: str = "CNY", cost: int = 1, window: int = 0, months: int | None = None,
                      earn_points: int = 1, earn_per_minor: int = 100, name: str | None = None) -> PartnerProgram:
        return await set_partner(
            self.db, get_points_settings(), partner_id=uuid.uuid4(), currency=currency, name=name, earn_points=earn_points,
            earn_per_minor=earn_per_minor, return_window_days=window, expiry_months=months, cost_per_point_minor=cost,
        )

    async def earn(self, member_id: uuid.UUID, partner: PartnerProgram, points: int, *, at: datetime | None = None,
                   external_id: str | None = None, category: str | None = None, now: datetime | None = None) -> PurchaseAnswer:
        """A purchase worth `points` at the partner's base rate (1 point per 100 minor units by default)."""
        amount = points * partner.earn_per_minor // max(partner.earn_points, 1)
        item = PurchaseInput(
            partner_id=partner.id, member_id=member_id, external_id=external_id or self.key("p"), amount_minor=amount,
            currency=partner.currency, occurred_at=at or utcnow(), category=category,
        )
        return await service.record_purchase(self.db, item, caller=f"partner:{partner.id}", directory=TrustingDirectory(), now=now)

    async def member(self, points: int = 0, *, partner: PartnerProgram | None = None) -> uuid.UUID:
        member_id = uuid.uuid4()
        if points:
            await self.earn(member_id, partner or await self.partner(), points)
        else:
            await service.set_points_profile(self.db, member_id=member_id, birthday_month=None, directory=TrustingDirectory())
        return member_id

    async def hold(self, member_id: uuid.UUID, points: int, *, ttl: int = 600, key: str | None = None,
                   now: datetime | None = None) -> HoldView:
        return await service.hold_points(
            self.db, member_id=member_id, points=points, ttl_seconds=ttl, reference="order-1",
            idempotency_key=key or self.key("h"), caller=SERVICE, now=now,
        )

    async def capture(self, hold_id: uuid.UUID, points: int, beneficiary: PartnerProgram, value: int = 0, *,
                      key: str | None = None, now: datetime | None = None):  # type: ignore[no-untyped-def]
        return await service.capture_hold(
            self.db, hold_id=hold_id, points=points, beneficiary_partner_id=beneficiary.id, value_minor=value,
            currency=beneficiary.currency, idempotency_key=key or self.key("c"), caller=SERVICE, now=now,
        )

    async def release(self, hold_id: uuid.UUID, *, key: str | None = None, now: datetime | None = None):  # type: ignore[no-untyped-def]
        return await service.release_hold(self.db, hold_id=hold_id, idempotency_key=key or self.key("r"), caller=SERVICE, now=now)

    async def refund(self, hold_id: uuid.UUID, points: int, *, key: str | None = None, now: datetime | None = None):  # type: ignore[no-untyped-def]
        return await service.refund_capture(
            self.db, hold_id=hold_id, points=points, idempotency_key=key or self.key("f"), caller=SERVICE, now=now
        )

    async def balances(self, member_id: uuid.UUID) -> Balances:
        (found,) = await balances_of(self.db, [member_id])
        return found

    async def assert_consistent(self) -> None:
        check = await ledger_check(self.db)
        assert check.ok, check.problems
        chains = await verify_chains(self.db)
        assert chains.ok, chains.broken


@pytest.fixture
async def kit(db: str) -> AsyncIterator[Kit]:
    yield Kit(get_database(db))
