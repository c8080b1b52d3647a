"""The catalogue's operations: create, change and move benefits through their statuses; read one,
a batch (entity references) or a page of the catalogue.

Each operation checks its input, decides access from the caller's `Principal`, runs one transaction
(or one read) and answers `BenefitView`s as that caller may see them.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from services.benefits import access
from services.benefits.catalogue import inputs, listing, rules, store
from services.benefits.catalogue.answers import BenefitView
from services.benefits.config import get_benefits_settings
from services.benefits.models import IDEMPOTENCY
from shared.auth.principals import Principal, require_authenticated
from shared.database import Database
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from shared.idempotency import check_key, run_idempotent
from shared.ids import new_id
from shared.pagination import Page, PageRequest, paginate
from shared.timeutil import utcnow

_HIDDEN_FROM_UPDATES = ("id", "created_at", "updated_at", "status")


def view(row: Any, principal: Principal, now: datetime) -> BenefitView:
    """A stored benefit (view columns and facts) as `principal` may see it."""
    shows_settlement = access.may_read_partner_private(principal, row.partner_id)
    return BenefitView(
        id=row.id, partner_id=row.partner_id, kind=row.kind, delivery=row.delivery, status=row.status, title=row.title,
        description=row.description, image_url=row.image_url, categories=tuple(row.categories or ()),
        tags=tuple(row.tags or ()), points_price=row.points_price,
        settlement_minor=row.settlement_minor if shows_settlement else None, currency=row.currency,
        face_value_minor=row.face_value_minor, terms=row.terms, validity_days=row.validity_days,
        valid_until=row.valid_until, platform=row.platform, duration_days=row.duration_days, min_tier=row.min_tier,
        available_from=row.available_from, available_until=row.available_until, limit_per_day=row.limit_per_day,
        limit_per_month=row.limit_per_month, limit_lifetime=row.limit_lifetime, stock_total=row.stock_total,
        birthday_perk=row.birthday_perk, refund_window_days=row.refund_window_days, created_at=row.created_at, updated_at=row.updated_at,
        unavailable=rules.benefit_reasons(store.facts_of(row), now),
    )


def may_see(row: Any, principal: Principal) -> bool:
    scope = access.catalogue_scope(principal)
    if scope is access.CatalogueScope.ALL or principal.is_partner(row.partner_id):
        return True
    return row.status == "ACTIVE" and row.partner_status == "ACTIVE"


# --- reads ---------------------------------------------------------------------------------------------


async def load_benefits(
    db: Database, principal: Principal, ids: Sequence[uuid.UUID], now: datetime | None = None
) -> list[BenefitView | None]:
    """One per id, in order (entity references and DataLoaders): None for a benefit that does not
    exist or that the caller may not see. One query for the batch."""
    access.catalogue_scope(principal)
    now = now or utcnow()
    async with store.reading(db) as connection:
        rows = await store.load(connection, ids, now=now, period_start=rules.month_start(now))
    found = {i: view(row, principal, now) for i, row in rows.items() if may_see(row, principal)}
    return [found.get(i) for i in ids]


async def get_benefit(db: Database, principal: Principal, benefit_id: uuid.UUID, now: datetime | None = None) -> BenefitView:
    (found,) = await load_benefits(db, principal, [benefit_id], now)
    if found is None:
        raise NotFound("no such benefit", id=str(benefit_id))
    return found


async def list_benefits(
    db: Database,
    principal: Principal,
    flt: inputs.CatalogueFilter | None = None,
    sort: inputs.Sort = inputs.Sort.POINTS_ASC,
    first: int | None = None,
    after: str | None = None,
    now: datetime | None = None,
) -> Page[BenefitView]:
    """The catalogue as the caller sees it: members see ACTIVE benefits of ACTIVE partners, a partner
    those and all of its own, staff and services everything."""
    scope = access.catalogue_scope(principal)
    flt = listing.checked(flt)
    if flt.status not in (None, "ACTIVE") and scope is access.CatalogueScope.ACTIVE:
        raise Forbidden("only a benefit's owner and staff may list benefits that are not ACTIVE")
    page = PageRequest(first, after, cursor_types=listing.cursor_types(sort))
    query = listing.list_query(scope, access.calling_partner(principal), flt, sort, page)
    now = now or utcnow()
    async with store.reading(db) as connection:
        rows = await store.list_page(connection, query, now=now, period_start=rules.month_start(now))
    found = paginate(rows, page, lambda row: listing.cursor_of(sort, row))
    return Page([view(row, principal, now) for row in found.rows], found.cursors, found.has_next_page, found.has_previous_page)


# --- writes --------------------------------------------------------------------------------------------


async def create_benefit(
    db: Database,
    principal: Principal,
    partner_id: uuid.UUID | None,
    fields: Mapping[str, Any],
    *,
    idempotency_key: str | None = None,
    benefit_id: uuid.UUID | None = None,
    now: datetime | None = None,
) -> BenefitView:
    """A new DRAFT benefit of `partner_id` (a partner's own when it calls and names none).

    `fields` are the benefit's columns (see `inputs.check_benefit`). With an idempotency key, a
    retried creation answers the first benefit instead of making a second one."""
    require_authenticated(principal)
    partner_id = partner_id or access.calling_partner(principal)
    if partner_id is None:
        raise InvalidInput("partnerId is required", field="partnerId")
    access.require_partner_manager(principal, partner_id)
    if idempotency_key is not None:
        check_key(idempotency_key)
    now = now or utcnow()
    settings = get_benefits_settings()
    given = dict(fields)
    # The partner's currency is known only in the transaction; check the rest with a stand-in.
    inputs.check_benefit({"currency": "XXX", **given}, settings.tiers, now)
    new = benefit_id or new_id()

    async def create(session: Any) -> dict[str, Any]:
        partner = await store.partner(session, partner_id)
        _require_owner(principal, partner)
        values = inputs.check_benefit({"currency": partner.currency, **given}, settings.tiers, now)
        if values["currency"] != partner.currency:
            raise InvalidInput(f"prices are in the partner's currency, {partner.currency}", field="settlementPrice.currency")
        await store.insert(session, {**values, "id": new, "partner_id": partner_id, "status": "DRAFT", "created_at": now, "updated_at": now})
        return {"id": str(new)}

    async def work(session: Any) -> dict[str, Any]:
        if idempotency_key is None:
            return await create(session)
        return await run_idempotent(
            session, IDEMPOTENCY, scope=f"benefits.create:{access.actor(principal)}", key=idempotency_key,
            request={"partnerId": partner_id, **given}, work=lambda: create(session),
        )

    answer = await db.run_transaction(work)
    return await get_benefit(db, principal, uuid.UUID(answer["id"]), now)


def _require_owner(principal: Principal, partner: Any) -> None:
    """Benefits belong to redemption partners; a partner changes its own only while ACTIVE
    (operators may prepare or fix them in any status)."""
    if partner is None:
        raise NotFound("no such partner")
    if "REDEMPTION" not in (partner.roles or ()):
        raise Conflict("the partner does not have the REDEMPTION role", partnerId=str(partner.id))
    if not principal.is_operator and partner.status != "ACTIVE":
        raise Forbidden("a partner manages its benefits only while ACTIVE", partnerStatus=partner.status)


async def update_benefit(
    db: Database, principal: Principal, benefit_id: uuid.UUID, changes: Mapping[str, Any], now: datetime | None = None
) -> BenefitView:
    """Changes the given columns (absent ones stay; None clears); the whole benefit must still be
    valid. A RETIRED benefit no longer changes."""
    require_authenticated(principal)
    inputs.check_changes(changes)
    unknown = set(changes) & set(_HIDDEN_FROM_UPDATES)
    if unknown:
        raise InvalidInput(f"{', '.join(sorted(unknown))} cannot be set here", field=sorted(unknown)[0])
    now = now or utcnow()
    tiers = get_benefits_settings().tiers

    async def work(session: Any) -> None:
        row = await _locked_for_manager(session, principal, benefit_id)
        if row.status == "RETIRED":
            raise Conflict("a RETIRED benefit cannot change", status=row.status)
        if changes.get("currency", row.currency) != row.currency:
            raise InvalidInput(f"prices are in the partner's currency, {row.currency}", field="settlementPrice.currency")
        current = {c: getattr(row, c) for c in row._fields if c != "data_key"}
        values = inputs.check_benefit({**current, **changes}, tiers, now)
        delta = {c: values[c] for c in changes if c in values}
        stock = values.get("stock_total")
        if "stock_total" in changes and stock is not None and stock < row.stock_reserved + row.stock_issued:
            raise InvalidInput("stockTotal is below what is already reserved and issued", field="stockTotal")
        await store.update(session, benefit_id, {**delta, "updated_at": now})

    await db.run_transaction(work)
    return await get_benefit(db, principal, benefit_id, now)


async def set_benefit_status(
    db: Database, principal: Principal, benefit_id: uuid.UUID, status: str, now: datetime | None = None
) -> BenefitView:
    """DRAFT → ACTIVE → PAUSED → ACTIVE …, and → RETIRED (final), by the owner or an operator.
    Setting the status a benefit already has changes nothing (a retried call is harmless)."""
    require_authenticated(principal)
    if status not in rules.TRANSITIONS:
        raise InvalidInput("status must be DRAFT, ACTIVE, PAUSED or RETIRED", field="status")
    now = now or utcnow()

    async def work(session: Any) -> None:
        row = await _locked_for_manager(session, principal, benefit_id)
        if row.status == status:
            return
        if not rules.may_move(row.status, status):
            raise Conflict(f"a {row.status} benefit cannot become {status}", status=row.status)
        await store.update(session, benefit_id, {"status": status, "updated_at": now})

    await db.run_transaction(work)
    return await get_benefit(db, principal, benefit_id, now)


async def _locked_for_manager(session: Any, principal: Principal, benefit_id: uuid.UUID) -> Any:
    row = await store.lock(session, benefit_id)
    if row is None or not access.is_partner_manager(principal, row.partner_id):
        if row is not None and (row.status == "ACTIVE" or access.catalogue_scope(principal) is access.CatalogueScope.ALL):
            raise Forbidden("only the benefit's partner and operators may change it")
        # Benefits the caller cannot see read as absent, as in the catalogue (drafts stay private).
        raise NotFound("no such benefit", id=str(benefit_id))
    _require_owner(principal, await store.partner(session, row.partner_id))
    return row
