"""A small kit for the catalogue tests: partners, benefits, codes and reservations where a test needs them.

Partner rows are written directly (the partners concept owns their API); codes and reservations too
(the codes concept owns theirs): the catalogue only reads them.
"""

from __future__ import annotations

import itertools
import os
import uuid
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from services.benefits.catalogue import rules, service
from services.benefits.catalogue.answers import BenefitView
from services.benefits.catalogue.store import codes_t, partners_t, reservations_t
from shared.auth.principals import Principal, PrincipalKind
from shared.database import Database, get_database
from shared.timeutil import utcnow

OPERATOR = Principal(PrincipalKind.STAFF, "ops-1", frozenset({"operator"}))
CS = Principal(PrincipalKind.STAFF, "cs-1", frozenset({"customer_service"}))
SERVICE = Principal(PrincipalKind.SERVICE, "redemptions")
ANONYMOUS = Principal(PrincipalKind.ANONYMOUS)


def partner_principal(partner_id: uuid.UUID) -> Principal:
    return Principal(PrincipalKind.PARTNER, str(partner_id))


def member_principal(member_id: uuid.UUID) -> Principal:
    return Principal(PrincipalKind.MEMBER, str(member_id))


def voucher(**overrides: Any) -> dict[str, Any]:
    """The columns of a valid ¥20 voucher for 200 points (settled at ¥18)."""
    return {
        "kind": "VOUCHER", "title": "¥20 voucher", "points_price": 200, "settlement_minor": 1800, "currency": "CNY",
        "face_value_minor": 2000, "validity_days": 30, "categories": ["grocery"], **overrides,
    }


def recharge(**overrides: Any) -> dict[str, Any]:
    """A 30-day video membership by direct recharge."""
    return {
        "kind": "VIDEO_MEMBERSHIP", "delivery": "RECHARGE", "title": "30 days of StreamBox", "points_price": 1500,
        "settlement_minor": 1200, "currency": "CNY", "platform": "streambox", "duration_days": 30,
        "categories": ["video"], **overrides,
    }


class Kit:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._n = itertools.count()

    async def partner(self, *, status: str = "ACTIVE", roles: tuple[str, ...] = ("EARNING", "REDEMPTION"),
                      currency: str = "CNY", partner_id: uuid.UUID | None = None) -> uuid.UUID:
        partner_id = partner_id or uuid.uuid4()
        now = utcnow()
        async with self.db.transaction() as session:
            await session.exec(sa.insert(partners_t).values(  # type: ignore[call-overload]
                id=partner_id, name=f"Partner {next(self._n)}", brand="Brand", status=status, roles=list(roles),
                currency=currency, created_at=now, updated_at=now,
            ))
        return partner_id

    async def set_partner_status(self, partner_id: uuid.UUID, status: str) -> None:
        async with self.db.transaction() as session:
            await session.exec(sa.update(partners_t).where(partners_t.c.id == partner_id).values(status=status))  # type: ignore[call-overload]

    async def benefit(self, partner_id: uuid.UUID, columns: dict[str, Any] | None = None, *, status: str = "ACTIVE",
                      codes: int = 0) -> BenefitView:
        created = await service.create_benefit(self.db, OPERATOR, partner_id, columns or voucher())
        if status != "DRAFT":
            created = await service.set_benefit_status(self.db, OPERATOR, created.id, "ACTIVE")
            if status != "ACTIVE":
                created = await service.set_benefit_status(self.db, OPERATOR, created.id, status)
        if codes:
            await self.codes(created.id, codes)
        return created

    async def codes(self, benefit_id: uuid.UUID, count: int, state: str = "AVAILABLE") -> None:
        now = utcnow()
        rows = [
            {"id": uuid.uuid4(), "benefit_id": benefit_id, "code_hash": os.urandom(32), "code_encrypted": b"x",
             "last4": "0000", "state": state, "created_at": now}
            for _ in range(count)
        ]
        async with self.db.transaction() as session:
            await session.exec(sa.insert(codes_t).values(rows))  # type: ignore[call-overload]

    async def set_codes_state(self, benefit_id: uuid.UUID, state: str) -> None:
        async with self.db.transaction() as session:
            await session.exec(sa.update(codes_t).where(codes_t.c.benefit_id == benefit_id).values(state=state))  # type: ignore[call-overload]

    async def reservation(self, benefit: BenefitView, member_id: uuid.UUID, *, state: str = "ISSUED",
                          at: datetime | None = None, settlement: int | None = None) -> uuid.UUID:
        at = at or utcnow()
        reservation_id = uuid.uuid4()
        async with self.db.transaction() as session:
            await session.exec(sa.insert(reservations_t).values(  # type: ignore[call-overload]
                id=reservation_id, key=f"r-{reservation_id}", benefit_id=benefit.id, member_id=member_id, state=state,
                settlement_minor=settlement if settlement is not None else 1800, period_start=rules.month_start(at),
                expires_at=at + timedelta(minutes=15), created_at=at, created_by="service:redemptions",
            ))
        return reservation_id
