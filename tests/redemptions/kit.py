"""A small world for redemption tests, built through each service's own API or service layer on the
test database: partners (in benefits and in points), benefits with code pools, members with points.
Redemptions themselves go through the redemptions service layer, which calls the peer processes."""

from __future__ import annotations

import asyncio
import itertools
import random
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
import sqlalchemy as sa

from services.members.profiles.service import register_member
from services.points.audit.service import ledger_check
from services.points.directory import TrustingDirectory
from services.points.earning import service as earning
from services.points.earning.rules import PurchaseInput
from services.points.ledger.answers import Balances
from services.points.partners.service import set_programme
from services.points.reporting.service import balances_of
from services.redemptions.config import reset_redemptions_settings_cache
from services.redemptions.redeeming import service as redeeming
from services.redemptions.redeeming.answers import RedemptionAnswer
from services.redemptions.redeeming.service import ClientContext
from shared.auth.principals import Principal, PrincipalKind
from shared.database import Database, get_database
from shared.federation.context import Context
from shared.settings import reset_settings_cache
from shared.timeutil import utcnow

OPERATOR = Principal(PrincipalKind.STAFF, "ops-test", frozenset({"operator"}))
SERVICE = Principal(PrincipalKind.SERVICE, "redemptions")  # as the saga calls points and benefits
SIGNUP = Principal(PrincipalKind.SERVICE, "members")  # members registers (no other service does)


def member_principal(member_id: uuid.UUID) -> Principal:
    return Principal(PrincipalKind.MEMBER, str(member_id))


def tune(monkeypatch: pytest.MonkeyPatch, **values: str) -> None:
    """Settings for one test (ABG_ environment variables); undone after it."""
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    reset_settings_cache()
    reset_redemptions_settings_cache()


async def benefits_gql(db: Database, query: str, principal: Principal = OPERATOR, **variables: Any) -> dict[str, Any]:
    """The benefits schema executed in this process (set-up only: the saga calls the process)."""
    from services.benefits.schema import schema

    result = await schema.execute(query, variable_values=variables, context_value=Context(request=None, principal=principal, db=db))
    assert not result.errors, [e.formatted for e in result.errors]
    assert result.data is not None
    return result.data


_REGISTER = """mutation($input: RegisterPartnerInput!) { registerPartner(input: $input) { id } }"""
_ACTIVATE = """mutation($id: ID!) { activatePartner(partnerId: $id) { id } }"""
_CREATE = """mutation($input: CreateBenefitInput!) { createBenefit(input: $input) { id } }"""
_GENERATE = """mutation($id: ID!, $n: Int!, $k: String!) { generateCodes(benefitId: $id, count: $n, idempotencyKey: $k) { accepted } }"""
_STATUS = """mutation($id: ID!) { setBenefitStatus(id: $id, status: ACTIVE) { id } }"""


@dataclass
class World:
    url: str
    db: Database = field(init=False)
    _earning: uuid.UUID | None = None
    _phones: itertools.count = field(default_factory=lambda: itertools.count(random.randrange(10**6)))

    def __post_init__(self) -> None:
        self.db = get_database(self.url)

    async def partner(self, *, name: str = "Metro Mart", currency: str = "CNY", roles: tuple[str, ...] = ("EARNING", "REDEMPTION"),
                      **profile: Any) -> uuid.UUID:
        """An ACTIVE partner in benefits, with a points programme under the same id."""
        found = await benefits_gql(self.db, _REGISTER, input={"name": name, "brand": name, "roles": list(roles), "currency": currency,
                                                              **profile})
        partner_id = uuid.UUID(found["registerPartner"]["id"])
        await benefits_gql(self.db, _ACTIVATE, id=str(partner_id))
        await set_programme(self.db, OPERATOR, partner_id=partner_id, currency=currency, name=name, earn_points=1, earn_per_minor=100,
                            return_window_days=0, cost_per_point_minor=1)
        await self._registered_in_points(partner_id)
        return partner_id

    async def _registered_in_points(self, partner_id: uuid.UUID) -> None:
        """Benefits tells points of the partner by event: wait until points has heard it is ACTIVE."""
        for _ in range(200):
            if await self.scalar("SELECT status FROM points.partner_registry WHERE partner_id = :p", p=partner_id) == "ACTIVE":
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"points never heard that partner {partner_id} is ACTIVE")

    async def benefit(self, partner: uuid.UUID, *, points: int = 100, settlement: int = 500, codes: int = 50,
                      kind: str = "VOUCHER", delivery: str = "CODE", **extra: Any) -> uuid.UUID:
        """An ACTIVE benefit; a CODE one with `codes` generated codes."""
        payload: dict[str, Any] = {"kind": kind, "title": f"Benefit {uuid.uuid4().hex[:6]}", "pointsPrice": points,
                                   "settlementPrice": {"amountMinor": settlement, "currency": "CNY"}, "partnerId": str(partner),
                                   "delivery": delivery, **extra}
        if kind == "VOUCHER":
            payload.setdefault("faceValue", {"amountMinor": settlement * 2, "currency": "CNY"})
            payload.setdefault("validityDays", 30)
        else:
            payload.setdefault("platform", "StreamBox")
            payload.setdefault("durationDays", 30)
        benefit_id = uuid.UUID((await benefits_gql(self.db, _CREATE, input=payload))["createBenefit"]["id"])
        if delivery == "CODE" and codes:
            await benefits_gql(self.db, _GENERATE, id=str(benefit_id), n=codes, k=f"gen-{benefit_id}")
        await benefits_gql(self.db, _STATUS, id=str(benefit_id))
        return benefit_id

    async def member(self, points: int = 0, *, birthday: str | None = None) -> uuid.UUID:
        """A registered member (in members) with `points` available (earned at an earning partner)."""
        phone = f"+86139{next(self._phones) % 10**8:08d}"
        member_id = (await register_member(self.db, SIGNUP, phone=phone, display_name="Test Member", birthday=birthday)).id
        if points:
            await self.give(member_id, points)
        return member_id

    async def give(self, member_id: uuid.UUID, points: int) -> None:
        if self._earning is None:
            self._earning = await self.partner(name="Earning Co", roles=("EARNING",))
        item = PurchaseInput(partner_id=self._earning, member_id=member_id, external_id=uuid.uuid4().hex, amount_minor=points * 100,
                             currency="CNY", occurred_at=utcnow())
        earned = await earning.record_purchase(self.db, Principal(PrincipalKind.PARTNER, str(self._earning)), item,
                                               directory=TrustingDirectory())
        assert earned.points == points, earned

    async def redeem(self, member_id: uuid.UUID, benefit_id: uuid.UUID, key: str | None = None, *, account: str | None = None,
                     device: str | None = None, as_: Principal | None = None) -> RedemptionAnswer:
        return await redeeming.redeem(
            self.db, as_ or member_principal(member_id), benefit_id=benefit_id, idempotency_key=uuid.uuid4().hex if key is None else key,
            account=account, member_id=member_id if as_ is not None and as_.is_service else None,
            client=ClientContext(device_id=device),
        )

    async def answer(self, member_id: uuid.UUID, redemption_id: uuid.UUID) -> RedemptionAnswer:
        return await redeeming.answer(self.db, member_principal(member_id), redemption_id)

    async def wait_for(self, read: Any, done: Any, *, seconds: float = 20.0) -> Any:
        """Polls `read()` until `done(value)`; the value."""
        for _ in range(int(seconds / 0.1)):
            value = await read()
            if done(value):
                return value
            await asyncio.sleep(0.1)
        raise AssertionError(f"not done after {seconds} s: {value}")

    async def deliver_event(self, type_: str, payload: dict[str, Any], *, producer: str = "benefits",
                            event_id: uuid.UUID | None = None) -> str:
        """An event taken by redemptions' inbox as its /events route takes it (once per id)."""
        from services.redemptions.events import HANDLERS
        from services.redemptions.models import INBOX
        from shared.events import Event, consume

        event = Event(id=event_id or uuid.uuid4(), type=type_, payload=payload, producer=producer, occurred_at=utcnow())
        return (await consume(self.db, INBOX, HANDLERS, event)).name

    async def balances(self, member_id: uuid.UUID) -> Balances:
        (found,) = await balances_of(self.db, SERVICE, [member_id])
        assert isinstance(found, Balances)
        return found

    async def ledger_ok(self) -> None:
        check = await ledger_check(self.db, OPERATOR)
        assert check.ok, check

    async def scalar(self, sql: str, **params: Any) -> Any:
        async with self.db.session() as session:
            return (await session.exec(sa.text(sql), params=params)).scalar()  # type: ignore[call-overload]

    async def execute(self, sql: str, **params: Any) -> None:
        """A change a test makes behind the services' backs (a clock moved back, say), committed."""
        async with self.db.transaction() as session:
            await session.exec(sa.text(sql), params=params)  # type: ignore[call-overload]

    async def rows(self, sql: str, **params: Any) -> list[Any]:
        async with self.db.session() as session:
            return list((await session.exec(sa.text(sql), params=params)).all())  # type: ignore[call-overload]
