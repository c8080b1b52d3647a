"""Fixtures for the webhooks tests: partners with endpoints and secrets, events published for them,
and rounds of the outbox (fan-out) and of the delivery loop driven by hand."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select, update

from shared.database import Database
from shared.events import dispatch_once, publish

from services.benefits.config import reset_benefits_settings_cache
from services.benefits.events import SERVICE, WEBHOOKS
from services.benefits.models import OUTBOX
from services.benefits.partners.answers import PartnerView
from services.benefits.webhooks import delivery, service
from services.benefits.webhooks.store import DELIVERIES
from tests.benefits.kit import OPERATOR, database, register  # noqa: F401

METRO_HOOK = "https://hooks.metro.example/abg"
SKYLINE_HOOK = "https://skyline.example/webhooks"


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Retries due at once (tests that look at the backoff set their own base)."""
    monkeypatch.setenv("ABG_BENEFITS_WEBHOOK_RETRY_BASE_SECONDS", "0")
    reset_benefits_settings_cache()
    yield
    reset_benefits_settings_cache()


@dataclass
class Hooks:
    db: Database
    metro: PartnerView
    skyline: PartnerView
    secrets: dict[uuid.UUID, str]

    async def event(self, payload: dict[str, Any], type_: str = "benefits.CodeWrittenOff") -> uuid.UUID:
        """What another concept does: publish a partner event to the `webhooks` subscriber."""
        async with self.db.transaction() as session:
            return await publish(session, OUTBOX, type=type_, payload=payload, subscribers=[WEBHOOKS], producer=SERVICE)

    async def fan_out(self) -> None:
        """The outbox dispatcher's round for the in-process `webhooks` subscriber."""
        await dispatch_once(self.db, SERVICE, OUTBOX, local={WEBHOOKS: service.fan_out}, subscribers={WEBHOOKS})

    async def deliver(self) -> delivery.RoundResult:
        return await delivery.deliver_due(self.db)

    async def rows(self, partner_id: uuid.UUID | None = None) -> list[Any]:
        statement = select(DELIVERIES).order_by(DELIVERIES.c.created_at, DELIVERIES.c.id)
        if partner_id is not None:
            statement = statement.where(DELIVERIES.c.partner_id == partner_id)
        async with self.db.engine.connect() as connection:
            return list((await connection.execute(statement)).all())

    async def make_due(self) -> None:
        async with self.db.engine.begin() as connection:
            await connection.execute(update(DELIVERIES).values(next_attempt_at=DELIVERIES.c.created_at))


@pytest.fixture
async def hooks(database: Database) -> AsyncIterator[Hooks]:  # noqa: F811
    metro = await register(database, webhook_url=METRO_HOOK)
    skyline = await register(database, name="Skyline Air", webhook_url=SKYLINE_HOOK)
    secrets = {p.id: (await service.rotate_webhook_secret(database, OPERATOR, p.id)).secret for p in (metro, skyline)}
    yield Hooks(database, metro, skyline, secrets)
    await delivery.aclose_webhook_client()
