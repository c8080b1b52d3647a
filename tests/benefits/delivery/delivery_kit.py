"""The kit of the recharge delivery tests: a partner with a fulfilment endpoint and secret, a video
membership delivered by recharge (written straight into the catalogue's table, which has its own
tests), reservations of it, and respx routes playing the partner's fulfilment API."""

from __future__ import annotations

import itertools
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
import orjson
import respx
from sqlalchemy import text

from shared.database import Database
from shared.timeutil import utcnow

from services.benefits.delivery.rules import recharge_key
from services.benefits.reservations import service as reservations
from services.benefits.reservations.answers import ReservationAnswer
from services.benefits.webhooks import service as webhooks
from services.benefits.webhooks.rules import SecretPurpose
from services.benefits.webhooks.signing import SIGNATURE_HEADER, verify
from tests.benefits.kit import OPERATOR, SERVICE, register

FULFILMENT = "https://video.streambox.example/abg"
RECHARGES = f"{FULFILMENT}/recharges"


def status_url(key: str) -> str:
    return f"{RECHARGES}/{quote(recharge_key(key), safe='')}"


def succeeded(reference: str = "SBX-1") -> httpx.Response:
    return httpx.Response(200, json={"status": "SUCCEEDED", "reference": reference})


def refused(reason: str = "ACCOUNT_NOT_FOUND", message: str = "no such account") -> httpx.Response:
    return httpx.Response(422, json={"status": "REFUSED", "reason": reason, "message": message})


def unknown() -> httpx.Response:
    return httpx.Response(404, json={"status": "UNKNOWN"})


def body(request: httpx.Request) -> dict[str, Any]:
    return orjson.loads(request.content)


@dataclass
class Video:
    """A StreamBox-like partner (fulfilment endpoint and secret) and one recharge benefit of it."""

    db: Database
    partner_id: uuid.UUID
    benefit_id: uuid.UUID
    secret: str
    _n: itertools.count = field(default_factory=itertools.count)

    def key(self) -> str:
        return f"rdm-{next(self._n)}-{uuid.uuid4().hex[:8]}"

    async def reserve(self, key: str | None = None, member_id: uuid.UUID | None = None,
                      benefit_id: uuid.UUID | None = None) -> ReservationAnswer:
        return await reservations.reserve(self.db, SERVICE, benefit_id=benefit_id or self.benefit_id,
                                          member_id=member_id or uuid.uuid4(), key=key or self.key())

    def verify(self, request: httpx.Request, secrets: list[str] | None = None) -> int:
        """Checks the request's signature as the partner would; the index of the secret that matched."""
        return verify(request.headers[SIGNATURE_HEADER], request.content, secrets or [self.secret], now=time.time()).secret_index

    async def scalar(self, sql: str, **params: object) -> Any:
        async with self.db.session() as session:
            return (await session.exec(text(sql), params=params)).scalar()  # type: ignore[call-overload]

    async def state(self, key: str) -> str:
        return await self.scalar("SELECT state FROM benefits.reservations WHERE key = :k", k=key)

    async def stock(self) -> tuple[int, int]:
        async with self.db.session() as session:
            row = (await session.exec(text(  # type: ignore[call-overload]
                "SELECT stock_reserved, stock_issued FROM benefits.benefits WHERE id = :id"), params={"id": self.benefit_id})).one()
        return row.stock_reserved, row.stock_issued

    async def logged(self, key: str) -> list[Any]:
        async with self.db.session() as session:
            return list((await session.exec(text(  # type: ignore[call-overload]
                """SELECT a.* FROM benefits.delivery_attempts a JOIN benefits.reservations r ON r.id = a.reservation_id
                   WHERE r.key = :k ORDER BY a.id"""), params={"k": key})).all())


async def add_benefit(db: Database, partner_id: uuid.UUID, *, delivery: str = "RECHARGE", duration_days: int | None = 30,
                      stock_total: int | None = None) -> uuid.UUID:
    benefit_id, now = uuid.uuid4(), utcnow()
    kind = "VIDEO_MEMBERSHIP" if delivery == "RECHARGE" or duration_days else "VOUCHER"
    async with db.transaction() as session:
        await session.exec(text(  # type: ignore[call-overload]
            """INSERT INTO benefits.benefits (id, partner_id, kind, delivery, status, title, points_price, settlement_minor,
                   currency, platform, duration_days, validity_days, stock_total, created_at, updated_at)
               VALUES (:id, :p, :kind, :delivery, 'ACTIVE', '30 days of StreamBox', 300, 1500, 'CNY', 'StreamBox', :d, 30,
                   :st, :now, :now)"""),
            params={"id": benefit_id, "p": partner_id, "kind": kind, "delivery": delivery, "d": duration_days,
                    "st": stock_total, "now": now})
    return benefit_id


async def video_partner(db: Database, *, fulfilment_url: str | None = FULFILMENT, secret: bool = True, **benefit: Any) -> Video:
    partner = await register(db, name="StreamBox Video", fulfilment_url=fulfilment_url)
    made = (await webhooks.rotate_secret(db, OPERATOR, partner.id, SecretPurpose.FULFILMENT)).secret if secret else ""
    return Video(db, partner.id, await add_benefit(db, partner.id, **benefit), made)


def partner_api(mock: respx.MockRouter) -> tuple[respx.Route, respx.Route, respx.Route]:
    """The routes of the fulfilment API (recharge, status lookup, revoke), for a test to program."""
    return (
        mock.post(RECHARGES, name="recharge"),
        mock.get(url__regex=rf"^{RECHARGES}/[^/]+$", name="status"),
        mock.post(url__regex=rf"^{RECHARGES}/[^/]+/revoke$", name="revoke"),
    )
