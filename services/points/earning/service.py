"""Earning's operations: record purchases and returns, adjust points, list purchases, configure
the earning policy and campaigns.

A purchase is keyed by (partner, external id): recording it again with the same content answers
what the first recording answered and changes nothing; the same key with other content is
`IDEMPOTENCY_KEY_REUSED`. A batch of up to 1,000 purchases is one transaction: every item is
checked before anything is written (a bad item fails alone, with its own typed error, and nothing
of it is written), and members are confirmed with the members service before the transaction
opens (never call another service inside one).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from services.points import access, outbox
from services.points.config import PointsSettings, get_points_settings
from services.points.directory import MemberDirectory, default_directory
from services.points.earning import purchases, returns, store
from services.points.earning.adjustments import adjust
from services.points.earning.limits import check_purchase_limits
from services.points.earning.answers import AdjustAnswer, PurchaseAnswer, ReturnAnswer
from services.points.earning.rules import (
    MAX_AMOUNT_MINOR,
    MAX_EXTERNAL_ID,
    CampaignRule,
    EarningPolicy,
    PurchaseInput,
    check_campaign,
    check_issuer,
    check_purchase,
    check_tier_multipliers,
)
from services.points.ledger import store as ledger
from services.points.ledger.unit import LedgerUnit
from services.points.models import IDEMPOTENCY
from services.points.partners import store as partners
from services.points.partners.rules import check_currency
from shared.auth import Principal
from shared.database import Database, Idempotency, run_operation, run_unit
from shared.errors import DomainError, Forbidden, InvalidInput, NotFound
from shared.ids import new_id
from shared.pagination import Page, PageRequest
from shared.timeutil import require_aware, utcnow

MAX_POINTS = 10**12  # far above any real balance; refuses overflow-sized input early
MAX_REASON = 500

Result = PurchaseAnswer | DomainError


def _text(value: str | None, field: str, limit: int) -> str:
    if value is None or not value.strip():
        raise InvalidInput(f"{field} is required", field=field)
    if len(value) > limit:
        raise InvalidInput(f"{field} is longer than {limit} characters", field=field)
    return value


async def record_purchases(
    db: Database,
    principal: Principal,
    items: Sequence[PurchaseInput | DomainError],
    *,
    directory: MemberDirectory | None = None,
    settings: PointsSettings | None = None,
    now: datetime | None = None,
) -> list[Result]:
    """One result per item, in order: its answer, or the typed error it failed with (an item
    given as an error, one its caller could not even read, fails as that error). A partner records
    only its own purchases (others: FORBIDDEN); alliance services any partner's."""
    allowed = access.recording_partner(principal)
    actor = access.actor(principal)
    settings = settings or get_points_settings()
    if len(items) > settings.max_bulk_purchases:
        raise InvalidInput(f"at most {settings.max_bulk_purchases} purchases per call", argument="purchases")
    now = now or utcnow()
    results: list[Result | None] = [None] * len(items)
    firsts: dict[tuple[uuid.UUID, str], int] = {}  # (partner, external id) -> first item with it
    candidates: list[int] = []
    for index, item in enumerate(items):
        if isinstance(item, DomainError):
            results[index] = item
            continue
        try:
            if allowed is not None and item.partner_id != allowed:
                raise Forbidden("a partner may record only its own purchases", partnerId=str(item.partner_id))
            check_purchase(item, now, settings)
        except DomainError as error:
            results[index] = error
            continue
        key = (item.partner_id, item.external_id)
        if key in firsts:
            continue  # answered like its first occurrence, below
        firsts[key] = index
        candidates.append(index)

    valid: dict[int, PurchaseInput] = {i: items[i] for i in candidates}  # type: ignore[misc]
    issuers = {item.partner_id for item in valid.values()}
    programmes = await partners.programmes(db, issuers)
    registry = await partners.registry_statuses(db, issuers)
    checked: list[int] = []
    for index in candidates:
        try:
            programme = check_issuer(valid[index], programmes.get(valid[index].partner_id), registry.get(valid[index].partner_id))
            check_purchase_limits(valid[index], programme, settings, now)
            checked.append(index)
        except DomainError as error:
            results[index] = error
    existing = await (directory or default_directory()).existing(db, {valid[i].member_id for i in checked})
    ready = []
    for index in checked:
        if valid[index].member_id in existing:
            ready.append(index)
        else:
            results[index] = NotFound("no such member", memberId=str(valid[index].member_id))

    if ready:
        batch = [valid[i] for i in ready]
        written = await run_unit(db, LedgerUnit, lambda unit: purchases.record(unit, batch, programmes, actor=actor, settings=settings), now=now)
        for index, result in zip(ready, written):
            results[index] = result
        outbox.wake()

    for index, item in enumerate(items):  # repeats within the batch answer like their first
        if results[index] is None:
            assert isinstance(item, PurchaseInput)
            first = firsts[(item.partner_id, item.external_id)]
            results[index] = purchases.same_or_reused(item, valid[first], results[first])
    return [r for r in results if r is not None]


async def record_purchase(
    db: Database, principal: Principal, item: PurchaseInput, *, directory: MemberDirectory | None = None, now: datetime | None = None
) -> PurchaseAnswer:
    (result,) = await record_purchases(db, principal, [item], directory=directory, now=now)
    if isinstance(result, DomainError):
        raise result
    return result


async def record_return(
    db: Database,
    principal: Principal,
    *,
    partner_id: uuid.UUID,
    external_id: str,
    return_key: str,
    amount_minor: int,
    currency: str,
    now: datetime | None = None,
) -> ReturnAnswer:
    """`return_key` is the idempotency key of the return (the partner's own return id)."""
    allowed = access.recording_partner(principal)
    if allowed is not None and allowed != partner_id:
        raise Forbidden("a partner may record returns only of its own purchases")
    if isinstance(amount_minor, bool) or not 0 < amount_minor <= MAX_AMOUNT_MINOR:
        raise InvalidInput("amountMinor must be a positive amount in minor units", field="amountMinor")
    check_currency(currency)
    _text(external_id, "externalId", MAX_EXTERNAL_ID)
    actor = access.actor(principal)
    request = {"externalId": external_id, "amount": amount_minor, "currency": currency}
    answer = await run_operation(
        db,
        LedgerUnit,
        lambda unit: returns.record(
            unit, partner_id=partner_id, external_id=external_id, return_key=return_key,
            amount_minor=amount_minor, currency=currency, actor=actor,
        ),
        ReturnAnswer,
        idempotency=Idempotency(IDEMPOTENCY, f"return:{partner_id}", return_key, request),
        now=now,
    )
    outbox.wake()
    return answer


async def adjust_points(
    db: Database,
    principal: Principal,
    *,
    member_id: uuid.UUID,
    points: int,
    reason: str,
    idempotency_key: str,
    issuer_partner_id: uuid.UUID | None = None,
    directory: MemberDirectory | None = None,
    now: datetime | None = None,
) -> AdjustAnswer:
    """Operators: credit (positive) or debit (negative) a member's points, with a reason."""
    access.require_operator(principal)
    if isinstance(points, bool) or not isinstance(points, int) or points == 0 or abs(points) > MAX_POINTS:
        raise InvalidInput("points must be a non-zero whole number (negative to debit)", field="points")
    _text(reason, "reason", MAX_REASON)
    issuer = None
    if issuer_partner_id:
        issuer = (await partners.programmes(db, [issuer_partner_id])).get(issuer_partner_id)
        if issuer is None:
            raise NotFound("this partner is not registered with the points programme", partnerId=str(issuer_partner_id))
    if points > 0 and member_id not in await (directory or default_directory()).existing(db, [member_id]):
        raise NotFound("no such member", memberId=str(member_id))
    settings, actor = get_points_settings(), access.actor(principal)

    async def work(unit: LedgerUnit) -> AdjustAnswer:
        await ledger.ensure_accounts(unit, [member_id])
        return await adjust(unit, member_id=member_id, points=points, reason=reason, issuer=issuer, actor=actor, settings=settings)

    request = {"member": str(member_id), "points": points, "reason": reason, "issuer": str(issuer_partner_id) if issuer_partner_id else None}
    idempotency = Idempotency(IDEMPOTENCY, f"adjust:{actor}", idempotency_key, request)
    return await run_operation(db, LedgerUnit, work, AdjustAnswer, idempotency=idempotency, now=now)


async def purchases_page(
    db: Database,
    principal: Principal,
    *,
    partner_id: uuid.UUID | None,
    member_id: uuid.UUID | None,
    first: int | None = None,
    after: str | None = None,
) -> Page[PurchaseAnswer]:
    """Recorded purchases, newest first: a partner its own, a member theirs, operators any."""
    access.require_purchase_reader(principal, partner_id=partner_id, member_id=member_id)
    request = PageRequest(first, after, cursor_types=store.PURCHASE_CURSOR)
    return await store.purchases_page(db, request, partner_id=partner_id, member_id=member_id)


# --- the earning policy and campaigns (operators) --------------------------------------------------


async def earning_policy(db: Database, principal: Principal) -> EarningPolicy:
    access.require_operator(principal)
    async with db.engine.connect() as connection:
        return await store.load_policy(connection)


async def set_earning_policy(
    db: Database, principal: Principal, *, tier_multipliers: dict[str, int], birthday_multiplier: int
) -> EarningPolicy:
    """Replaces the tier and birthday multipliers (tiers not named keep their defaults)."""
    access.require_operator(principal)
    check_tier_multipliers(tier_multipliers, birthday_multiplier)
    return await store.save_policy(
        db, tier_multipliers=tier_multipliers, birthday_multiplier=birthday_multiplier, updated_by=access.actor(principal)
    )


async def campaigns(db: Database, principal: Principal) -> list[CampaignRule]:
    access.require_operator(principal)
    return await store.all_campaigns(db)


async def create_campaign(
    db: Database,
    principal: Principal,
    *,
    name: str,
    multiplier_bps: int,
    starts_at: datetime,
    ends_at: datetime,
    partner_id: uuid.UUID | None = None,
    category: str | None = None,
) -> CampaignRule:
    access.require_operator(principal)
    starts_at, ends_at = check_campaign(name, category, multiplier_bps, starts_at, ends_at)
    if partner_id is not None and not await partners.exists(db, partner_id):
        raise NotFound("this partner is not registered with the points programme", partnerId=str(partner_id))
    campaign = CampaignRule(new_id(), name, partner_id, category, multiplier_bps, starts_at, ends_at)
    await store.add_campaign(db, campaign, created_by=access.actor(principal))
    return campaign


async def end_campaign(db: Database, principal: Principal, campaign_id: uuid.UUID, *, at: datetime | None = None) -> CampaignRule | None:
    """Ends a campaign now (or at `at`), never moving its end later. A campaign that has not
    started by then never applied to anything and is removed (None)."""
    access.require_operator(principal)
    at = require_aware(at, "at") if at else utcnow()

    async def work(connection: AsyncConnection) -> CampaignRule | None:
        campaign = await store.lock_campaign(connection, campaign_id)
        if campaign is None:
            raise NotFound("no such campaign", campaignId=str(campaign_id))
        if at <= campaign.starts_at:
            await store.remove_campaign(connection, campaign_id)
            return None
        ends_at = min(campaign.ends_at, at)
        await store.set_campaign_end(connection, campaign_id, ends_at)
        return CampaignRule(campaign.id, campaign.name, campaign.partner_id, campaign.category, campaign.multiplier_bps, campaign.starts_at, ends_at)

    return await db.run_core_transaction(work)
