"""The partner registry: operators register, activate and suspend partners; a partner edits its own
profile; everyone signed in sees a partner's public face.

Every change of a partner's status or roles publishes `benefits.PartnerStatusChanged` in the same
transaction, carrying the partner's new version: changes of one partner take turns on its row lock,
so versions are consecutive and the highest one is the partner's state.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from shared.auth.principals import Principal, require_authenticated, require_partner
from shared.database import Database
from shared.ids import new_id
from shared.errors import Conflict, Forbidden, NotFound
from shared.pagination import Page, PageRequest, paginate
from shared.settings import get_settings

from services.benefits import access
from services.benefits.errors import NotAvailable
from services.benefits.events import PARTNER_STATUS_CHANGED, publish_event
from services.benefits.models import Partner
from services.benefits.partners import rules, store
from services.benefits.partners.answers import PartnerDraft, PartnerView, ProfileChanges
from services.benefits.partners.rules import UNCHANGED, PartnerRole, PartnerStatus

__all__ = [
    "activate_partner",
    "get_partner",
    "list_partners",
    "load_partners",
    "my_partner",
    "publish_status",
    "register_partner",
    "require_redeemable_partner",
    "suspend_partner",
    "update_partner",
]


def _production() -> bool:
    return get_settings().env == "production"


def _view(principal: Principal, row: Partner) -> PartnerView:
    return PartnerView.of(row, private=access.may_read_partner_private(principal, row.id))


async def publish_status(session: AsyncSession, row: Partner) -> None:
    """Publishes the partner's status, roles and version (in the caller's transaction)."""
    await publish_event(
        session,
        PARTNER_STATUS_CHANGED,
        {
            "partnerId": str(row.id),
            "status": row.status,
            "version": row.version,
            "roles": list(row.roles),
            "occurredAt": row.updated_at.isoformat(),
        },
    )


# --- writes --------------------------------------------------------------------------------------


def _clean_draft(draft: PartnerDraft) -> dict[str, Any]:
    production = _production()
    return {
        "id": rules.clean_partner_id(draft.id) or new_id(),
        "name": rules.clean_text(draft.name, "name", max_length=rules.MAX_NAME),
        "brand": rules.clean_text(draft.brand, "brand", max_length=rules.MAX_NAME),
        "roles": [r.value for r in rules.clean_roles(draft.roles)],
        "currency": rules.clean_currency(draft.currency),
        "contact_name": rules.clean_optional_text(draft.contact_name, "contact.name", max_length=rules.MAX_NAME),
        "contact_email": rules.clean_email(draft.contact_email),
        "logo_url": rules.clean_url(draft.logo_url, "logoUrl", production=production, endpoint=False),
        "categories": rules.clean_categories(draft.categories),
        "webhook_url": rules.clean_url(draft.webhook_url, "webhookUrl", production=production, endpoint=True),
        "fulfilment_url": rules.clean_url(draft.fulfilment_url, "fulfilmentUrl", production=production, endpoint=True),
    }


async def register_partner(db: Database, principal: Principal, draft: PartnerDraft) -> PartnerView:
    """Operators: a new partner, PENDING until activated."""
    values = _clean_draft(draft)
    access.require_operator(principal)

    async def work(session: AsyncSession) -> Partner:
        row = await store.insert_partner(session, {**values, "status": PartnerStatus.PENDING.value})
        if row is None:
            raise Conflict("a partner with this id is registered already", field="id", id=str(values["id"]))
        await publish_status(session, row)
        return row

    return _view(principal, await db.run_transaction(work))


async def _set_status(
    db: Database, principal: Principal, partner_id: uuid.UUID, status: PartnerStatus, reason: str | None
) -> PartnerView:
    access.require_operator(principal)

    async def work(session: AsyncSession) -> Partner:
        row = await store.lock(session, partner_id)
        if row is None:
            raise NotFound("no partner with this id", id=str(partner_id))
        if row.status == status.value and row.status_reason == reason:
            return row  # already so: nothing changes, nothing is published
        changed = await store.update(session, partner_id, {"status": status.value, "status_reason": reason})
        if row.status != status.value:
            await publish_status(session, changed)
        return changed

    return _view(principal, await db.run_transaction(work))


async def activate_partner(db: Database, principal: Principal, partner_id: uuid.UUID) -> PartnerView:
    """Operators: PENDING or SUSPENDED → ACTIVE (ACTIVE stays as it is)."""
    return await _set_status(db, principal, partner_id, PartnerStatus.ACTIVE, None)


async def suspend_partner(db: Database, principal: Principal, partner_id: uuid.UUID, reason: str) -> PartnerView:
    """Operators: → SUSPENDED with a reason. A suspended partner can neither get bearer tokens for
    its API keys nor have its benefits redeemed; points learns it from the event."""
    return await _set_status(db, principal, partner_id, PartnerStatus.SUSPENDED, rules.clean_reason(reason))


def _clean_changes(changes: ProfileChanges) -> dict[str, Any]:
    production = _production()
    cleaners = {
        "name": lambda v: rules.clean_text(v, "name", max_length=rules.MAX_NAME),
        "brand": lambda v: rules.clean_text(v, "brand", max_length=rules.MAX_NAME),
        "contact_name": lambda v: rules.clean_optional_text(v, "contact.name", max_length=rules.MAX_NAME),
        "contact_email": rules.clean_email,
        "logo_url": lambda v: rules.clean_url(v, "logoUrl", production=production, endpoint=False),
        "categories": rules.clean_categories,
        "webhook_url": lambda v: rules.clean_url(v, "webhookUrl", production=production, endpoint=True),
        "fulfilment_url": lambda v: rules.clean_url(v, "fulfilmentUrl", production=production, endpoint=True),
        "roles": lambda v: [r.value for r in rules.clean_roles(v)],
    }
    given = {name: value for name, value in asdict(changes).items() if value is not UNCHANGED}
    return {name: cleaners[name](value) for name, value in given.items()}


async def update_partner(
    db: Database, principal: Principal, partner_id: uuid.UUID, changes: ProfileChanges
) -> PartnerView:
    """The partner itself or an operator edits the profile; only operators change roles."""
    values = _clean_changes(changes)
    access.require_partner_manager(principal, partner_id)
    if "roles" in values and not principal.is_operator:
        raise Forbidden("only an operator may change a partner's roles", field="roles")

    async def work(session: AsyncSession) -> Partner:
        row = await store.lock(session, partner_id)
        if row is None:
            raise NotFound("no partner with this id", id=str(partner_id))
        different = {name: value for name, value in values.items() if getattr(row, name) != value}
        if not different:
            return row
        changed = await store.update(session, partner_id, different)
        if "roles" in different:
            await publish_status(session, changed)
        return changed

    return _view(principal, await db.run_transaction(work))


# --- reads ---------------------------------------------------------------------------------------


async def load_partners(db: Database, principal: Principal, ids: Sequence[uuid.UUID]) -> list[PartnerView | None]:
    """For references from anywhere (`_entities`, a lot's issuer): any signed-in caller, each partner
    as that caller may see it; None for an id that is no partner. One query per batch."""
    require_authenticated(principal)
    async with db.session() as session:
        found = await store.load(session, ids)
    return [_view(principal, found[i]) if i in found else None for i in ids]


async def get_partner(db: Database, principal: Principal, partner_id: uuid.UUID) -> PartnerView:
    """The whole partner: the partner itself, staff and alliance services."""
    access.require_partner_reader(principal, partner_id)
    (found,) = await load_partners(db, principal, [partner_id])
    if found is None:
        raise NotFound("no partner with this id", id=str(partner_id))
    return found


async def my_partner(db: Database, principal: Principal) -> PartnerView:
    return await get_partner(db, principal, require_partner(principal))


async def list_partners(
    db: Database,
    principal: Principal,
    *,
    status: PartnerStatus | None = None,
    role: PartnerRole | None = None,
    first: int | None = None,
    after: str | None = None,
) -> Page[PartnerView]:
    """Staff and alliance services; oldest first."""
    request = PageRequest(first, after, cursor_types=(datetime, uuid.UUID))
    access.require_partner_directory_reader(principal)
    async with db.session() as session:
        rows = await store.page(
            session, status=status, role=role, after=request.after_values, limit=request.fetch_limit  # type: ignore[arg-type]
        )
    found = paginate(rows, request, key=lambda row: (row.created_at, row.id))
    return Page(
        rows=[_view(principal, row) for row in found.rows],
        cursors=found.cursors,
        has_next_page=found.has_next_page,
        has_previous_page=found.has_previous_page,
    )


async def require_redeemable_partner(session: AsyncSession, partner_id: uuid.UUID, *, hold: bool = False) -> Partner:
    """In the caller's transaction (catalogue, reservations): the partner, if members may redeem its
    benefits now (ACTIVE, with the REDEMPTION role); else `NotFound` or `NotAvailable` with the
    reason. `hold` keeps the partner from being suspended until the transaction ends (a share lock:
    concurrent redemptions do not wait for one another, only a status change waits for them)."""
    row = await (store.share_lock if hold else _load_one)(session, partner_id)
    if row is None:
        raise NotFound("no partner with this id", partnerId=str(partner_id))
    verdict = rules.redeemability(row.status, row.roles)
    if not verdict.ok:
        raise NotAvailable("this partner's benefits cannot be redeemed now", reason=verdict.reason, partnerId=str(partner_id))
    return row


async def _load_one(session: AsyncSession, partner_id: uuid.UUID) -> Partner | None:
    return (await store.load(session, [partner_id])).get(partner_id)
