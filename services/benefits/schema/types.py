"""The entity types of the benefits subgraph.

`Partner @key(id)` and `Benefit @key(id)` are owned here; `Member @key(id)` is the members
subgraph's, referenced (and given `eligibleBenefits`, `codes`) here. Each concept writes its fields
in its own section below, with the resolvers in that concept's schema module, so the concepts can
grow side by side.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

import strawberry

from shared.federation import Info
from shared.graphql_pagination import Connection
from shared.ids import parse_id
from shared.pagination import Page

from services.benefits.credentials import service as credentials
from services.benefits.credentials.answers import ApiKeyView
from services.benefits.partners import service as partners
from services.benefits.partners.answers import PartnerView
from services.benefits.partners.rules import PartnerRole as DomainPartnerRole
from services.benefits.partners.rules import PartnerStatus as DomainPartnerStatus
from services.benefits.schema import refs
from services.benefits.schema.codes_types import BenefitCodeFields, MemberCodeFields, PartnerCodeFields
from services.benefits.schema.delivery_types import PartnerDeliveryFields
from services.benefits.webhooks import service as webhooks
from services.benefits.webhooks.answers import DeliveryView, SecretInfo
from services.benefits.webhooks.answers import WebhookAttempt as AttemptView
from services.benefits.webhooks.rules import DeliveryStatus

# --- partners (schema/partners.py) ------------------------------------------------------------------

PartnerStatus = strawberry.enum(
    DomainPartnerStatus, name="PartnerStatus", description="PENDING until an operator activates it; SUSPENDED by an operator."
)
PartnerRole = strawberry.enum(
    DomainPartnerRole, name="PartnerRole", description="EARNING: its purchases earn points; REDEMPTION: it offers benefits."
)
WebhookDeliveryStatus = strawberry.enum(
    DeliveryStatus, name="WebhookDeliveryStatus",
    description="PENDING (being tried), DELIVERED (a 2xx answer), FAILED (out of attempts, or nowhere to send it).",
)


def partners_loader(info: Info):  # noqa: ANN201
    db, principal = info.context.db, info.context.principal
    return info.context.loader("benefits.partners", lambda ids: partners.load_partners(db, principal, ids))


def _api_keys_loader(info: Info):  # noqa: ANN202
    db, principal = info.context.db, info.context.principal
    return info.context.loader("benefits.apiKeys", lambda ids: credentials.keys_of(db, principal, ids))


def _secrets_loader(info: Info):  # noqa: ANN202
    db, principal = info.context.db, info.context.principal
    return info.context.loader("benefits.webhookSecrets", lambda ids: webhooks.secrets_of(db, principal, ids))


def _deliveries_loader(info: Info, status: DeliveryStatus | None, first: int | None, after: str | None):  # noqa: ANN202
    db, principal = info.context.db, info.context.principal

    async def load(ids: Sequence[uuid.UUID]) -> list[Page[DeliveryView] | None]:
        return await webhooks.deliveries_of(db, principal, ids, status=status, first=first, after=after)

    return info.context.loader(f"benefits.webhookDeliveries:{status}:{first}:{after}", load)


@strawberry.type(description="Who to talk to at a partner.")
class PartnerContact:
    name: str | None
    email: str | None


@strawberry.type(description="An API key of a partner: its metadata (the secret is shown only when issued).")
class PartnerApiKey:
    id: strawberry.ID
    prefix: str = strawberry.field(description="The public part of the key (abk_<prefix>_…), to tell keys apart.")
    label: str | None
    active: bool = strawberry.field(description="False once revoked.")
    created_at: datetime
    created_by: str
    last_used_at: datetime | None = strawberry.field(description="The last exchange for a token (to the minute).")
    revoked_at: datetime | None
    revoked_by: str | None

    @classmethod
    def of(cls, key: ApiKeyView) -> PartnerApiKey:
        return cls(
            id=strawberry.ID(str(key.id)), prefix=key.prefix, label=key.label, active=key.active, created_at=key.created_at,
            created_by=key.created_by, last_used_at=key.last_used_at, revoked_at=key.revoked_at, revoked_by=key.revoked_by,
        )


@strawberry.type(description="A webhook signing secret that still signs (the secret itself is shown only when made).")
class WebhookSecret:
    id: strawberry.ID
    created_at: datetime
    expires_at: datetime | None = strawberry.field(description="When it stops signing; null for the current secret.")

    @classmethod
    def of(cls, info: SecretInfo) -> WebhookSecret:
        return cls(id=strawberry.ID(str(info.id)), created_at=info.created_at, expires_at=info.expires_at)


@strawberry.type(description="One try to deliver a webhook.")
class WebhookAttempt:
    at: datetime
    attempt: int = strawberry.field(description="Its number since the delivery was (re)queued.")
    url: str | None
    http_status: int | None = strawberry.field(description="The endpoint's answer; null if none came.")
    error: str | None
    latency_ms: int | None

    @classmethod
    def of(cls, a: AttemptView) -> WebhookAttempt:
        return cls(at=a.at, attempt=a.attempt, url=a.url, http_status=a.http_status, error=a.error, latency_ms=a.latency_ms)


@strawberry.type(description="One event sent to a partner's webhook endpoint, and every attempt to send it.")
class WebhookDelivery:
    id: strawberry.ID
    event_id: strawberry.ID = strawberry.field(description="The `id` of the JSON sent: the same on every attempt.")
    event_type: str
    status: WebhookDeliveryStatus  # type: ignore[valid-type]
    attempt_count: int = strawberry.field(description="Attempts since it was (re)queued.")
    attempts: list[WebhookAttempt] = strawberry.field(description="Every attempt, oldest first (the newest 50).")
    body: str = strawberry.field(description="The JSON sent: {id, type, occurredAt, data}.")
    created_at: datetime
    next_attempt_at: datetime | None = strawberry.field(description="While PENDING: when it is tried next.")
    delivered_at: datetime | None

    @classmethod
    def of(cls, d: DeliveryView) -> WebhookDelivery:
        return cls(
            id=strawberry.ID(str(d.id)), event_id=strawberry.ID(str(d.event_id)), event_type=d.event_type, status=d.status,
            attempt_count=d.attempt_count, attempts=[WebhookAttempt.of(a) for a in d.attempts], body=d.body,
            created_at=d.created_at, next_attempt_at=d.next_attempt_at, delivered_at=d.delivered_at,
        )


@strawberry.federation.type(
    keys=["id"],
    description=(
        "An alliance partner (a brand or platform). Its public face (name, brand, status, logo, categories) "
        "is readable by every signed-in caller; the other fields are null except for the partner itself, "
        "staff and alliance services."
    ),
)
class Partner(PartnerCodeFields, PartnerDeliveryFields):
    id: strawberry.ID
    name: str
    brand: str
    status: PartnerStatus  # type: ignore[valid-type]
    logo_url: str | None
    categories: list[str]
    roles: list[PartnerRole] | None  # type: ignore[valid-type]
    currency: str | None = strawberry.field(description="ISO 4217: what its settlements are in.")
    contact: PartnerContact | None
    webhook_url: str | None
    fulfilment_url: str | None = strawberry.field(description="Where recharges of its video memberships are delivered.")
    status_reason: str | None = strawberry.field(description="Why it was suspended.")
    version: int | None = strawberry.field(description="Grows with every change of the partner.")
    created_at: datetime | None
    updated_at: datetime | None
    view: strawberry.Private[PartnerView]

    @classmethod
    def of(cls, v: PartnerView) -> Partner:
        return cls(
            id=strawberry.ID(str(v.id)), name=v.name, brand=v.brand, status=v.status, logo_url=v.logo_url,
            categories=list(v.categories), roles=list(v.roles) if v.roles is not None else None, currency=v.currency,
            contact=PartnerContact(name=v.contact_name, email=v.contact_email) if v.private else None,
            webhook_url=v.webhook_url, fulfilment_url=v.fulfilment_url, status_reason=v.status_reason, version=v.version,
            created_at=v.created_at, updated_at=v.updated_at, view=v,
        )

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> Partner | None:
        """References from other subgraphs (a lot's issuer): any signed-in caller, batched per
        request; an id that is no partner resolves to null."""
        found = await partners_loader(info).load(parse_id(id))
        return cls.of(found) if found is not None else None

    @strawberry.field(description="Its API keys (metadata), newest first.")
    async def api_keys(self, info: Info) -> list[PartnerApiKey] | None:
        found = await _api_keys_loader(info).load(self.view.id)
        return [PartnerApiKey.of(k) for k in found] if found is not None else None

    @strawberry.field(description="The webhook signing secrets that sign now (two during a rotation's overlap).")
    async def webhook_secrets(self, info: Info) -> list[WebhookSecret] | None:
        found = await _secrets_loader(info).load(self.view.id)
        return [WebhookSecret.of(s) for s in found] if found is not None else None

    @strawberry.field(description="Webhooks sent to it, newest first.")
    async def webhook_deliveries(
        self, info: Info, first: int | None = None, after: str | None = None,
        status: WebhookDeliveryStatus | None = None,  # type: ignore[valid-type]
    ) -> Connection[WebhookDelivery] | None:
        page = await _deliveries_loader(info, status, first, after).load(self.view.id)
        return Connection[WebhookDelivery].from_page(page, WebhookDelivery.of) if page is not None else None


# --- catalogue and budgets (schema/catalogue.py) -------------------------------------------------------

# --- codes, reservations, write-offs (schema/codes.py) -------------------------------------------------
# Fields added to the entities as mixins (Benefit.stock/codes, Member.codes, Partner.writeOffs/codeUsage),
# from schema/codes_types.py; the entities below put them together.

@strawberry.federation.type(keys=["id"], description="Something a member can redeem points for, owned by one partner.")
class Benefit(BenefitCodeFields):
    id: strawberry.ID

    @classmethod
    async def resolve_reference(cls, id: strawberry.ID) -> Benefit:
        return cls(id=id)


@strawberry.federation.type(keys=["id"], description="An alliance member (owned by the members subgraph).")
class Member(MemberCodeFields):
    id: strawberry.ID

    @classmethod
    async def resolve_reference(cls, id: strawberry.ID) -> Member:
        return cls(id=id)


async def _partner_ref(info: Info, partner_id: uuid.UUID) -> Partner | None:
    found = await partners_loader(info).load(partner_id)
    return Partner.of(found) if found is not None else None


async def _benefit_ref(info: Info, benefit_id: uuid.UUID) -> Benefit:
    return Benefit(id=strawberry.ID(str(benefit_id)))


async def _member_ref(info: Info, member_id: uuid.UUID) -> Member:
    return Member(id=strawberry.ID(str(member_id)))


refs.register("Partner", _partner_ref)
refs.register("Benefit", _benefit_ref)
refs.register("Member", _member_ref)

ENTITY_TYPES: list[type] = [Partner, Benefit, Member]
