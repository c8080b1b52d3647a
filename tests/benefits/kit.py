"""Helpers for the benefits tests: principals of every role, partners registered through the service
layer, and the schema executed in-process as a given principal."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest

from shared.auth.principals import ANONYMOUS, Principal, PrincipalKind
from shared.database import Database, get_database
from shared.federation import Context

from services.benefits.partners import service as partners
from services.benefits.partners.answers import PartnerDraft, PartnerView

OPERATOR = Principal(PrincipalKind.STAFF, "ops-1", frozenset({"operator"}))
SUPPORT = Principal(PrincipalKind.STAFF, "cs-1", frozenset({"customer_service"}))
SERVICE = Principal(PrincipalKind.SERVICE, "redemptions")
MEMBER = Principal(PrincipalKind.MEMBER, "0190a0d0-0000-7000-8000-0000000000aa")
STRANGER = Principal(PrincipalKind.PARTNER, "0190a0d0-0000-7000-8000-0000000000bb")  # another partner
__all__ = ["ANONYMOUS", "MEMBER", "OPERATOR", "SERVICE", "STRANGER", "SUPPORT"]


def as_partner(partner_id: uuid.UUID | str) -> Principal:
    return Principal(PrincipalKind.PARTNER, str(partner_id))


def roles_for(partner_id: uuid.UUID) -> dict[str, Principal]:
    """Every kind of caller, named, for role × operation tables."""
    return {
        "operator": OPERATOR,
        "customer_service": SUPPORT,
        "partner": as_partner(partner_id),
        "other_partner": STRANGER,
        "member": MEMBER,
        "service": SERVICE,
        "anonymous": ANONYMOUS,
    }


async def register(db: Database, *, active: bool = True, **overrides: Any) -> PartnerView:
    values: dict[str, Any] = {"name": "Metro Mart", "brand": "Metro", "roles": ["EARNING", "REDEMPTION"], "currency": "CNY"}
    values.update(overrides)
    view = await partners.register_partner(db, OPERATOR, PartnerDraft(**values))
    if active:
        view = await partners.activate_partner(db, OPERATOR, view.id)
    return view


@dataclass
class Answer:
    data: dict[str, Any] | None
    errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def codes(self) -> list[str]:
        return [e.get("extensions", {}).get("code") for e in self.errors]

    @property
    def ok(self) -> dict[str, Any]:
        assert not self.errors, self.errors
        assert self.data is not None
        return self.data


async def gql(db: Database, query: str, principal: Principal = ANONYMOUS, **variables: Any) -> Answer:
    """The benefits schema, executed in this process as `principal` (errors as clients see them)."""
    from services.benefits.schema import schema

    result = await schema.execute(query, variable_values=variables, context_value=Context(request=None, principal=principal, db=db))
    errors = [e.formatted for e in result.errors or []]
    return Answer(data=result.data, errors=errors)


@pytest.fixture
def database(db: str) -> Database:
    """The benefits database, with empty tables (use: `from tests.benefits.kit import database`)."""
    return get_database(db)


async def published(db: Database, type_: str) -> list[dict[str, Any]]:
    """Payloads of the benefits events of one type, oldest first, with their subscribers."""
    from sqlalchemy import select

    from services.benefits.models import OUTBOX

    e, d = OUTBOX.events, OUTBOX.deliveries
    async with db.engine.connect() as connection:
        rows = (await connection.execute(select(e.c.id, e.c.payload).where(e.c.type == type_).order_by(e.c.id))).all()
        targets = (await connection.execute(select(d.c.event_id, d.c.subscriber))).all()
    return [
        {**row.payload, "_subscribers": sorted(t.subscriber for t in targets if t.event_id == row.id)} for row in rows
    ]
