"""Root fields of the partner registry. Each resolver parses its arguments and calls one service
function with the caller's principal; who may do what is decided there."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types.unset import UNSET

from shared.federation import Info
from shared.graphql_pagination import Connection
from shared.ids import parse_id

from services.benefits.partners import service
from services.benefits.partners.answers import PartnerDraft, ProfileChanges
from services.benefits.partners.rules import UNCHANGED
from services.benefits.schema.types import Partner, PartnerRole, PartnerStatus


@strawberry.input(description="Who to talk to at a partner; a field left out stays as it is, null clears it.")
class PartnerContactInput:
    name: str | None = UNSET
    email: str | None = UNSET


@strawberry.input(description="A new partner. URLs are http(s) (https in production), up to 500 characters.")
class RegisterPartnerInput:
    id: strawberry.ID | None = strawberry.field(default=None, description="Fix the id (e.g. one other services know already).")
    name: str
    brand: str
    roles: list[PartnerRole]  # type: ignore[valid-type]
    currency: str = strawberry.field(description="ISO 4217, e.g. CNY.")
    contact: PartnerContactInput | None = None
    logo_url: str | None = None
    categories: list[str] | None = strawberry.field(default=None, description="Up to 20 slugs, e.g. video, coffee.")
    webhook_url: str | None = None
    fulfilment_url: str | None = None


@strawberry.input(description="Changes to a profile: a field left out stays as it is; null clears an optional one.")
class PartnerProfileInput:
    name: str | None = UNSET
    brand: str | None = UNSET
    contact: PartnerContactInput | None = UNSET
    logo_url: str | None = UNSET
    categories: list[str] | None = UNSET
    webhook_url: str | None = UNSET
    fulfilment_url: str | None = UNSET
    roles: list[PartnerRole] | None = strawberry.field(default=UNSET, description="Operators only.")  # type: ignore[valid-type]


def _plain(value: Any) -> Any:
    return None if value is UNSET else value


def _given(value: Any) -> Any:
    return UNCHANGED if value is UNSET else value


def _changes(input: PartnerProfileInput) -> ProfileChanges:
    contact = input.contact
    if contact is None:  # null clears the whole contact
        name: Any = None
        email: Any = None
    elif contact is UNSET:
        name = email = UNCHANGED
    else:
        name, email = _given(contact.name), _given(contact.email)
    return ProfileChanges(
        name=_given(input.name), brand=_given(input.brand), contact_name=name, contact_email=email,
        logo_url=_given(input.logo_url), categories=_given(input.categories), webhook_url=_given(input.webhook_url),
        fulfilment_url=_given(input.fulfilment_url), roles=_given(input.roles),
    )


@strawberry.type
class PartnerQueries:
    @strawberry.field(description="A partner, whole: the partner itself, staff and alliance services.")
    async def partner(self, info: Info, id: strawberry.ID) -> Partner:
        return Partner.of(await service.get_partner(info.context.db, info.context.principal, parse_id(id)))

    @strawberry.field(description="The partners, oldest first: staff and alliance services.")
    async def partners(
        self, info: Info, first: int | None = None, after: str | None = None,
        status: PartnerStatus | None = None,  # type: ignore[valid-type]
        role: PartnerRole | None = None,  # type: ignore[valid-type]
    ) -> Connection[Partner]:
        page = await service.list_partners(
            info.context.db, info.context.principal, status=status, role=role, first=first, after=after
        )
        return Connection[Partner].from_page(page, Partner.of)

    @strawberry.field(description="The calling partner's own profile.")
    async def my_partner(self, info: Info) -> Partner:
        return Partner.of(await service.my_partner(info.context.db, info.context.principal))


@strawberry.type
class PartnerMutations:
    @strawberry.mutation(description="Operators: registers a partner, PENDING until activated.")
    async def register_partner(self, info: Info, input: RegisterPartnerInput) -> Partner:
        contact = input.contact or PartnerContactInput(name=None, email=None)
        draft = PartnerDraft(
            id=input.id, name=input.name, brand=input.brand, roles=list(input.roles), currency=input.currency,
            contact_name=_plain(contact.name), contact_email=_plain(contact.email),
            logo_url=input.logo_url, categories=input.categories or (), webhook_url=input.webhook_url,
            fulfilment_url=input.fulfilment_url,
        )
        return Partner.of(await service.register_partner(info.context.db, info.context.principal, draft))

    @strawberry.mutation(description="Operators: a PENDING or SUSPENDED partner becomes ACTIVE.")
    async def activate_partner(self, info: Info, partner_id: strawberry.ID) -> Partner:
        return Partner.of(await service.activate_partner(info.context.db, info.context.principal, parse_id(partner_id, "partnerId")))

    @strawberry.mutation(description="Operators: suspends a partner (no tokens, no redemptions) with a reason.")
    async def suspend_partner(self, info: Info, partner_id: strawberry.ID, reason: str) -> Partner:
        return Partner.of(
            await service.suspend_partner(info.context.db, info.context.principal, parse_id(partner_id, "partnerId"), reason)
        )

    @strawberry.mutation(description="The partner itself or an operator edits the profile (roles: operators only).")
    async def update_partner(self, info: Info, partner_id: strawberry.ID, input: PartnerProfileInput) -> Partner:
        return Partner.of(
            await service.update_partner(
                info.context.db, info.context.principal, parse_id(partner_id, "partnerId"), _changes(input)
            )
        )
