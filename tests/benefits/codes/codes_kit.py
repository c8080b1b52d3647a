"""The kit of the code-pool tests: partners and benefits written straight into the benefits schema
(the partner registry and the catalogue have their own tests), principals of every role, and short
ways to fill a pool and move a code through its states."""

from __future__ import annotations

import itertools
import uuid
from datetime import datetime

from sqlalchemy import text

from services.benefits.codes import ingest
from services.benefits.codes.answers import UploadAnswer
from services.benefits.reservations import service as reservations
from services.benefits.reservations.answers import IssuedAnswer
from shared.auth.principals import ANONYMOUS, Principal, PrincipalKind
from shared.database import Database
from shared.timeutil import utcnow

OPERATOR = Principal(PrincipalKind.STAFF, "ops-1", frozenset({"operator"}))
CS = Principal(PrincipalKind.STAFF, "cs-1", frozenset({"customer_service"}))
SERVICE = Principal(PrincipalKind.SERVICE, "redemptions")
ANON = ANONYMOUS


def partner_principal(partner_id: uuid.UUID) -> Principal:
    return Principal(PrincipalKind.PARTNER, str(partner_id))


def member_principal(member_id: uuid.UUID) -> Principal:
    return Principal(PrincipalKind.MEMBER, str(member_id))


class Kit:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._n = itertools.count()

    def key(self, prefix: str = "k") -> str:
        return f"{prefix}-{next(self._n)}-{uuid.uuid4().hex[:6]}"

    async def partner(self, status: str = "ACTIVE") -> uuid.UUID:
        partner_id, now = uuid.uuid4(), utcnow()
        async with self.db.transaction() as session:
            await session.exec(text(  # type: ignore[call-overload]
                """INSERT INTO benefits.partners (id, name, brand, status, roles, currency, created_at, updated_at)
                   VALUES (:id, :name, :name, :status, '{REDEMPTION}', 'CNY', :now, :now)"""),
                params={"id": partner_id, "name": f"Brand {partner_id.hex[:6]}", "status": status, "now": now})
        return partner_id

    async def benefit(
        self, partner_id: uuid.UUID, *, delivery: str = "CODE", status: str = "ACTIVE", stock_total: int | None = None,
        validity_days: int | None = 30, valid_until: datetime | None = None, threshold: int | None = None,
        available_from: datetime | None = None, available_until: datetime | None = None,
    ) -> uuid.UUID:
        benefit_id, now = uuid.uuid4(), utcnow()
        kind = "VOUCHER" if delivery == "CODE" else "VIDEO_MEMBERSHIP"
        async with self.db.transaction() as session:
            await session.exec(text(  # type: ignore[call-overload]
                """INSERT INTO benefits.benefits (id, partner_id, kind, delivery, status, title, points_price, settlement_minor,
                       currency, validity_days, valid_until, stock_total, low_stock_threshold, available_from, available_until,
                       created_at, updated_at)
                   VALUES (:id, :p, :kind, :delivery, :status, 'A benefit', 100, 500, 'CNY', :vd, :vu, :st, :th, :af, :au,
                       :now, :now)"""),
                params={"id": benefit_id, "p": partner_id, "kind": kind, "delivery": delivery, "status": status,
                        "vd": validity_days, "vu": valid_until, "st": stock_total, "th": threshold, "af": available_from,
                        "au": available_until, "now": now})
        return benefit_id

    async def set_status(self, benefit_id: uuid.UUID, status: str) -> None:
        async with self.db.transaction() as session:
            await session.exec(text("UPDATE benefits.benefits SET status = :s WHERE id = :id"),  # type: ignore[call-overload]
                               params={"s": status, "id": benefit_id})

    async def upload(self, benefit_id: uuid.UUID, partner_id: uuid.UUID, codes: list[str], key: str | None = None) -> UploadAnswer:
        return await ingest.upload_codes(self.db, partner_principal(partner_id), benefit_id=benefit_id, codes=codes,
                                         idempotency_key=key or self.key("u"))

    async def pool(self, count: int = 5, *, prefix: str | None = None, **benefit: object) -> tuple[uuid.UUID, uuid.UUID, list[str]]:
        """A partner, one CODE benefit of it and `count` uploaded codes."""
        partner_id = await self.partner()
        benefit_id = await self.benefit(partner_id, **benefit)  # type: ignore[arg-type]
        stem = prefix or "C" + uuid.uuid4().hex[:8].upper()  # a letter, so a lower-cased code always differs
        codes = [f"{stem}{i:05d}" for i in range(count)]
        answer = await self.upload(benefit_id, partner_id, codes)
        assert answer.accepted == count, answer
        return partner_id, benefit_id, codes

    async def issued(self, benefit_id: uuid.UUID, member_id: uuid.UUID | None = None, *, now: datetime | None = None) -> IssuedAnswer:
        key = self.key("r")
        await reservations.reserve(self.db, SERVICE, benefit_id=benefit_id, member_id=member_id or uuid.uuid4(), key=key, now=now)
        return await reservations.issue(self.db, SERVICE, key=key, now=now)

    async def scalar(self, sql: str, **params: object) -> object:
        async with self.db.session() as session:
            return (await session.exec(text(sql), params=params)).scalar()  # type: ignore[call-overload]

    async def events(self, event_type: str) -> list[dict]:
        async with self.db.session() as session:
            rows = (await session.exec(text(  # type: ignore[call-overload]
                "SELECT payload FROM benefits.outbox_events WHERE type = :t ORDER BY id"), params={"t": event_type})).all()
        return [row.payload for row in rows]
