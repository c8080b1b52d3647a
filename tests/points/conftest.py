"""Fixtures for the points tests: a clean database and a small kit to set up partners and members."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import datetime

import pytest
from sqlalchemy import select

from services.points.audit.service import ledger_check, verify_chains
from services.points.config import reset_points_settings_cache
from services.points.directory import TrustingDirectory
from services.points.earning import service as earning
from services.points.earning.answers import PurchaseAnswer
from services.points.earning.rules import PurchaseInput
from services.points.ledger.answers import Balances
from services.points.ledger.service import set_points_profile
from services.points.models import Lot, Posting
from services.points.partners.answers import PartnerProgram
from services.points.partners.service import set_programme
from services.points.reporting.service import balances_of
from services.points.spending import service as spending
from services.points.spending.answers import HoldAnswer
from shared.auth import OPERATOR as OPERATOR_ROLE
from shared.auth import Principal, PrincipalKind
from shared.database import Database, get_database
from shared.timeutil import utcnow

# Who calls the service layer in these tests.
SERVICE = Principal(PrincipalKind.SERVICE, "redemptions")
MEMBERS = Principal(PrincipalKind.SERVICE, "members")  # sets the birthday month
OPERATOR = Principal(PrincipalKind.STAFF, "ops", frozenset({OPERATOR_ROLE}))


LOTS, POSTINGS = Lot.__table__, Posting.__table__


def partner_principal(partner_id: uuid.UUID) -> Principal:
    return Principal(PrincipalKind.PARTNER, str(partner_id))


@pytest.fixture(autouse=True)
def points_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Points without a members service (tests that check unknown members pass a directory), and
    no background jobs."""
    monkeypatch.setenv("ABG_POINTS_MEMBER_CHECK", "trust")
    monkeypatch.setenv("ABG_POINTS_JOB_INTERVAL_SECONDS", "0")
    # Expiry and vesting tests back-date purchases by years; the age window has tests of its own.
    monkeypatch.setenv("ABG_POINTS_MAX_PURCHASE_AGE_DAYS", "3650")
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
        return await set_programme(
            self.db, OPERATOR, partner_id=uuid.uuid4(), currency=currency, name=name, earn_points=earn_points,
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
        return await earning.record_purchase(self.db, partner_principal(partner.id), item, directory=TrustingDirectory(), now=now)

    async def member(self, points: int = 0, *, partner: PartnerProgram | None = None) -> uuid.UUID:
        member_id = uuid.uuid4()
        if points:
            await self.earn(member_id, partner or await self.partner(), points)
        else:
            await set_points_profile(self.db, MEMBERS, member_id=member_id, birthday_month=None, directory=TrustingDirectory())
        return member_id

    async def hold(self, member_id: uuid.UUID, points: int, *, ttl: int = 600, key: str | None = None,
                   now: datetime | None = None) -> HoldAnswer:
        return await spending.hold_points(
            self.db, SERVICE, member_id=member_id, points=points, ttl_seconds=ttl, reference="order-1",
            idempotency_key=key or self.key("h"), now=now,
        )

    async def capture(self, hold_id: uuid.UUID, points: int, beneficiary: PartnerProgram, value: int = 0, *,
                      key: str | None = None, now: datetime | None = None):  # type: ignore[no-untyped-def]
        return await spending.capture_hold(
            self.db, SERVICE, hold_id=hold_id, points=points, beneficiary_partner_id=beneficiary.id, value_minor=value,
            currency=beneficiary.currency, idempotency_key=key or self.key("c"), now=now,
        )

    async def release(self, hold_id: uuid.UUID, *, key: str | None = None, now: datetime | None = None):  # type: ignore[no-untyped-def]
        return await spending.release_hold(self.db, SERVICE, hold_id=hold_id, idempotency_key=key or self.key("r"), now=now)

    async def refund(self, hold_id: uuid.UUID, points: int, *, key: str | None = None, now: datetime | None = None):  # type: ignore[no-untyped-def]
        return await spending.refund_capture(
            self.db, SERVICE, hold_id=hold_id, points=points, idempotency_key=key or self.key("f"), now=now
        )

    async def balances(self, member_id: uuid.UUID) -> Balances:
        (found,) = await balances_of(self.db, SERVICE, [member_id])
        assert isinstance(found, Balances)
        return found

    async def postings(self, transaction_id: uuid.UUID) -> list[tuple[str, int, uuid.UUID | None]]:
        """The transaction's legs as (account, amount, lot id), sorted."""
        async with self.db.engine.connect() as c:
            rows = await c.execute(
                select(POSTINGS.c.account, POSTINGS.c.amount, POSTINGS.c.lot_id).where(POSTINGS.c.transaction_id == transaction_id)
            )
            return sorted((r.account, r.amount, r.lot_id) for r in rows)

    async def lot(self, lot_id: uuid.UUID):  # type: ignore[no-untyped-def]  # noqa: ANN201
        """The lot's row as stored."""
        async with self.db.engine.connect() as c:
            return (await c.execute(select(LOTS).where(LOTS.c.id == lot_id))).one()

    async def assert_consistent(self) -> None:
        check = await ledger_check(self.db, OPERATOR)
        assert check.ok, check.problems
        chains = await verify_chains(self.db, OPERATOR)
        assert chains.ok, chains.broken


@pytest.fixture
async def kit(db: str) -> AsyncIterator[Kit]:
    yield Kit(get_database(db))
