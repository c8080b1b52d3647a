"""Recording purchases: points by the earning rules, pending until the return window passes.

A purchase is keyed by (partner, external id): recording it again with the same content answers
what the first recording answered and changes nothing; the same key with other content is
`IDEMPOTENCY_KEY_REUSED`. A batch of up to 1,000 purchases is one database transaction: every item
is validated before anything is written (so a bad item fails alone, with its own typed error, and
nothing of it is written), then the batch's members are locked together (sorted, so concurrent
batches never deadlock) and the rows are written a table at a time.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.points import events
from services.points.answers import PurchaseAnswer
from services.points.config import PointsSettings
from services.points.credits import credit
from services.points.directory import MemberDirectory
from services.points.earning import load_campaigns, load_policy, points_for
from services.points.ledger import LedgerUnit, ensure_accounts, lock_members
from services.points.lots import PURCHASE
from services.points.models import lots_t, purchases_t
from services.points.partners import PartnerProgram, check_currency, load_partners
from shared.database import Database
from shared.errors import DomainError, Forbidden, IdempotencyKeyReused, InvalidInput, NotFound
from shared.idempotency import fingerprint
from shared.ids import new_id
from shared.timeutil import add_months, require_aware, utcnow

MAX_EXTERNAL_ID = 100
MAX_CATEGORY = 50
MAX_AMOUNT_MINOR = 10**12


@dataclass(frozen=True, slots=True)
class PurchaseInput:
    partner_id: uuid.UUID
    member_id: uuid.UUID
    external_id: str
    amount_minor: int
    currency: str
    occurred_at: datetime
    category: str | None = None

    def fingerprint(self) -> str:
        return fingerprint(
            {
                "member": str(self.member_id),
                "amount": self.amount_minor,
                "currency": self.currency,
                "at": require_aware(self.occurred_at, "occurredAt").isoformat(),
                "category": self.category,
            }
        )


Result = PurchaseAnswer | DomainError


def _validate(item: PurchaseInput, now: datetime, settings: PointsSettings) -> None:
    if not item.external_id or not item.external_id.strip() or len(item.external_id) > MAX_EXTERNAL_ID:
        raise InvalidInput(f"externalId must be 1 to {MAX_EXTERNAL_ID} characters", field="externalId")
    if isinstance(item.amount_minor, bool) or not 0 < item.amount_minor <= MAX_AMOUNT_MINOR:
        raise InvalidInput("amountMinor must be a positive amount in minor units", field="amountMinor")
    check_currency(item.currency)
    occurred = require_aware(item.occurred_at, "occurredAt")
    if occurred > now + timedelta(seconds=settings.max_clock_skew_seconds):
        raise InvalidInput("occurredAt is in the future", field="occurredAt")
    if item.category is not None and not 0 < len(item.category) <= MAX_CATEGORY:
        raise InvalidInput(f"category must be 1 to {MAX_CATEGORY} characters", field="category")


def _check_partner(item: PurchaseInput, partner: PartnerProgram | None) -> PartnerProgram:
    if partner is None:
        raise NotFound("this partner is not registered with the points programme", partnerId=str(item.partner_id))
    if not partner.earning_enabled:
        raise InvalidInput("this partner does not issue points", field="partnerId", partnerId=str(item.partner_id))
    if item.currency != partner.currency:
        raise InvalidInput(
            f"this partner records purchases in {partner.currency}", field="currency", expected=partner.currency, got=item.currency
        )
    return partner


def _answer_of_stored(row: object) -> PurchaseAnswer:
    r = row._mapping  # type: ignore[attr-defined]
    vests_at = r["vests_at"]
    return PurchaseAnswer(
        purchase_id=r["id"],
        partner_id=r["partner_id"],
        external_id=r["external_id"],
        member_id=r["member_id"],
        points=r["points_earned"],
        # As the first answer said it: pending if the lot did not vest when it was recorded.
        pending=vests_at is not None and vests_at > r["created_at"],
        vests_at=vests_at,
        expires_at=r["expires_at"],
        lot_id=r["lot_id"],
        transaction_id=r["transaction_id"],
        rule=r["rule"],
    )


async def record_purchases(
    db: Database,
    items: Sequence[PurchaseInput],
    *,
    actor: str,
    allowed_partner: uuid.UUID | None,
    directory: MemberDirectory,
    settings: PointsSettings,
    now: datetime | None = None,
) -> list[Result]:
    """One result per item, in order: its answer, or the typed error it failed with.

    `allowed_partner`: a partner caller may record only its own purchases (others: FORBIDDEN)."""
    if len(items) > settings.max_bulk_purchases:
        raise InvalidInput(f"at most {settings.max_bulk_purchases} purchases per call", field="purchases")
    now = now or utcnow()
    results: list[Result | None] = [None] * len(items)
    firsts: dict[tuple[uuid.UUID, str], int] = {}  # (partner, external id) -> first item with it
    candidates: list[int] = []
    for index, item in enumerate(items):
        try:
            if allowed_partner is not None and item.partner_id != allowed_partner:
                raise Forbidden("a partner may record only its own purchases", partnerId=str(item.partner_id))
            _validate(item, now, settings)
        except DomainError as error:
            results[index] = error
            continue
        key = (item.partner_id, item.external_id)
        if key in firsts:
            continue  # answered like its first occurrence, below
        firsts[key] = index
        candidates.append(index)

    async with db.engine.connect() as connection:
        partners = await load_partners(connection, {items[i].partner_id for i in candidates})
    checked: list[int] = []
    for index in candidates:
        try:
            _check_partner(items[index], partners.get(items[index].partner_id))
            checked.append(index)
        except DomainError as error:
            results[index] = error
    existing = await directory.existing(db, {items[i].member_id for i in checked})  # before the transaction
    ready = []
    for index in checked:
        if items[index].member_id in existing:
            ready.append(index)
        else:
            results[index] = NotFound("no such member", memberId=str(items[index].member_id))

    if ready:
        written = await db.run_core_transaction(lambda connection: _write(connection, items, ready, partners, actor, settings, now))
        for index, result in written.items():
            results[index] = result
        events.wake()

    for index, item in enumerate(items):  # repeats within the batch answer like their first
        if results[index] is None:
            first = firsts[(item.partner_id, item.external_id)]
            results[index] = _same_or_reused(item, items[first], results[first])
    return [r for r in results if r is not None]


def _same_or_reused(item: PurchaseInput, first: PurchaseInput, first_result: Result | None) -> Result:
    if item.fingerprint() != first.fingerprint():
        return IdempotencyKeyReused("this externalId was recorded with other content", externalId=item.external_id)
    assert first_result is not None
    return first_result


async def _write(
    connection: AsyncConnection,
    items: Sequence[PurchaseInput],
    ready: list[int],
    partners: dict[uuid.UUID, PartnerProgram],
    actor: str,
    settings: PointsSettings,
    now: datetime,
) -> dict[int, Result]:
    unit = LedgerUnit(connection, now)
    results: dict[int, Result] = {}
    member_ids = {items[i].member_id for i in ready}
    await ensure_accounts(unit, member_ids)
    states = await lock_members(unit, member_ids)
    times = [require_aware(items[i].occurred_at, "occurredAt") for i in ready]
    policy = await load_policy(connection)
    campaigns = await load_campaigns(connection, min(times), max(times))

    # Compute every new purchase, then insert them all; the ones whose key exists already come back
    # missing from RETURNING and are answered from the stored row.
    planned: dict[int, dict] = {}
    for index, occurred_at in zip(ready, times):
        item = items[index]
        partner = partners[item.partner_id]
        state = states[item.member_id]
        earned = points_for(
            amount_minor=item.amount_minor,
            partner=partner,
            tier=state.tier,
            birthday_month=state.birthday_month,
            occurred_at=occurred_at,
            category=item.category,
            policy=policy,
            campaigns=campaigns,
        )
        planned[index] = {
            "id": new_id(),
            "partner_id": item.partner_id,
            "external_id": item.external_id,
            "member_id": item.member_id,
            "amount_minor": item.amount_minor,
            "currency": item.currency,
            "occurred_at": occurred_at,
            "category": item.category,
            "fingerprint": item.fingerprint(),
            "points_earned": earned.points,
            "rule": earned.rule,
            "lot_id": new_id() if earned.points else None,
            "transaction_id": new_id() if earned.points else None,
            "recorded_by": actor,
            "created_at": now,
        }
    inserted = await connection.execute(
        insert(purchases_t).on_conflict_do_nothing().returning(purchases_t.c.id), list(planned.values())
    )
    inserted_ids = {row.id for row in inserted}
    fresh = [i for i in ready if planned[i]["id"] in inserted_ids]
    repeated = [i for i in ready if planned[i]["id"] not in inserted_ids]
    if repeated:
        results.update(await _stored_answers(unit, items, repeated))

    payloads = []
    for index in fresh:
        row, item = planned[index], items[index]
        partner = partners[item.partner_id]
        vests_at = row["occurred_at"] + timedelta(days=partner.return_window_days)
        expires_at = add_months(row["occurred_at"], partner.expiry_months)
        lot = posted = None
        if row["points_earned"]:
            lot, posted = credit(
                unit,
                states[item.member_id],
                kind="EARN",
                actor=actor,
                issuer_partner_id=partner.id,
                cost_per_point_minor=partner.cost_per_point_minor,
                currency=partner.currency,
                amount=row["points_earned"],
                earned_at=row["occurred_at"],
                vests_at=vests_at,
                expires_at=expires_at,
                source=PURCHASE,
                purchase_id=row["id"],
                lot_id=row["lot_id"],
                transaction_id=row["transaction_id"],
                reference=item.external_id,
                detail={"purchase": str(row["id"]), "partner": str(partner.id)},
            )
        results[index] = PurchaseAnswer(
            purchase_id=row["id"],
            partner_id=item.partner_id,
            external_id=item.external_id,
            member_id=item.member_id,
            points=row["points_earned"],
            pending=lot is not None and lot.vested_at is None,
            vests_at=lot.vests_at if lot else None,
            expires_at=lot.expires_at if lot else None,
            lot_id=lot.id if lot else None,
            transaction_id=posted.id if posted else None,
            rule=row["rule"],
        )
        payloads.append(
            {
                "memberId": str(item.member_id),
                "amountMinor": item.amount_minor,
                "currency": item.currency,
                "occurredAt": row["occurred_at"].isoformat(),
                "partnerId": str(item.partner_id),
                "externalId": item.external_id,
            }
        )
    await events.publish_many(connection, events.PURCHASE_RECORDED, payloads)
    await unit.finish()
    return results


async def _stored_answers(unit: LedgerUnit, items: Sequence[PurchaseInput], indexes: list[int]) -> dict[int, Result]:
    p = purchases_t
    keys = [(items[i].partner_id, items[i].external_id) for i in indexes]
    rows = await unit.execute(
        select(p, lots_t.c.vests_at, lots_t.c.expires_at)
        .select_from(p.outerjoin(lots_t, lots_t.c.id == p.c.lot_id))
        .where(tuple_(p.c.partner_id, p.c.external_id).in_(keys))
    )
    stored = {(row.partner_id, row.external_id): row for row in rows}
    answers: dict[int, Result] = {}
    for index in indexes:
        item = items[index]
        row = stored[(item.partner_id, item.external_id)]
        if row.fingerprint != item.fingerprint():
            answers[index] = IdempotencyKeyReused("this externalId was recorded with other content", externalId=item.external_id)
        else:
            answers[index] = _answer_of_stored(row)
    return answers
