"""Recording a batch of checked purchases in one unit of work (see `service.record_purchases`).

The batch's members are locked together (sorted, so concurrent batches never deadlock), every new
purchase is computed, then they are all inserted in one statement; the ones whose key exists
already come back missing from RETURNING and are answered from the stored row.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, timedelta

from services.points import outbox
from services.points.config import PointsSettings
from services.points.earning import store
from services.points.earning.answers import PurchaseAnswer
from services.points.earning.limits import over_daily_cap
from services.points.earning.rows import PurchaseRow
from services.points.earning.rules import PurchaseInput, points_for
from services.points.ledger import store as ledger
from services.points.ledger.lots import credit
from services.points.ledger.rows import PURCHASE, AccountRow, Credit
from services.points.ledger.status import closed
from services.points.ledger.unit import LedgerUnit
from services.points.partners.answers import PartnerProgram
from shared.errors import DomainError, IdempotencyKeyReused
from shared.ids import new_id
from shared.timeutil import add_months, require_aware

Result = PurchaseAnswer | DomainError


def _reused(item: PurchaseInput) -> IdempotencyKeyReused:
    return IdempotencyKeyReused("this externalId was recorded with other content", externalId=item.external_id)


def same_or_reused(item: PurchaseInput, first: PurchaseInput, first_result: Result | None) -> Result:
    """A repeat of a key within one batch answers like the key's first item, if it is the same."""
    if item.fingerprint() != first.fingerprint():
        return _reused(item)
    assert first_result is not None
    return first_result


async def record(
    unit: LedgerUnit,
    items: Sequence[PurchaseInput],
    programmes: dict[uuid.UUID, PartnerProgram],
    *,
    actor: str,
    settings: PointsSettings,
) -> list[Result]:
    """One result per item (all checked, their partners and members known), in order. An item of
    an erased member (closed account) or beyond the partner's daily points cap fails alone; an item
    whose key was recorded before answers as it did then (it is not counted against the cap again)."""
    member_ids = {item.member_id for item in items}
    await ledger.ensure_accounts(unit, member_ids)
    states = await ledger.lock_members(unit, member_ids)
    times = [require_aware(item.occurred_at, "occurredAt") for item in items]
    policy = await store.load_policy(unit)
    campaigns = await store.campaigns_overlapping(unit, min(times), max(times))
    known = await store.existing_keys(unit, [(item.partner_id, item.external_id) for item in items])
    earned_days = await store.points_per_day(unit, member_ids, {item.partner_id for item in items}, min(times), max(times))

    results: list[Result | None] = [None] * len(items)
    rows: list[PurchaseRow] = []
    positions: list[int] = []  # the item each row is of
    for index, (item, occurred_at) in enumerate(zip(items, times)):
        state = states[item.member_id]
        partner = programmes[item.partner_id]
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
        if (item.partner_id, item.external_id) not in known:
            day = (item.member_id, item.partner_id, occurred_at.astimezone(UTC).date())
            refusal = closed(state) or over_daily_cap(partner, settings, earned_days.get(day, 0), earned.points)
            if refusal is not None:
                results[index] = refusal
                continue
            earned_days[day] = earned_days.get(day, 0) + earned.points
        positions.append(index)
        rows.append(
            PurchaseRow(
                id=new_id(),
                partner_id=item.partner_id,
                external_id=item.external_id,
                member_id=item.member_id,
                amount_minor=item.amount_minor,
                currency=item.currency,
                occurred_at=occurred_at,
                category=item.category,
                fingerprint=item.fingerprint(),
                points_earned=earned.points,
                rule=earned.rule,
                lot_id=new_id() if earned.points else None,
                transaction_id=new_id() if earned.points else None,
                returned_minor=0,
                points_clawed_back=0,
                recorded_by=actor,
                created_at=unit.now,
            )
        )
    inserted = await store.insert_new(unit, rows)

    repeated = [(i, row) for i, row in zip(positions, rows) if row.id not in inserted]
    if repeated:
        found = await store.stored(unit, [(items[i].partner_id, items[i].external_id) for i, _ in repeated])
        for i, row in repeated:
            fingerprint, answer = found[(items[i].partner_id, items[i].external_id)]
            results[i] = answer if fingerprint == row.fingerprint else _reused(items[i])

    payloads = []
    for i, row in zip(positions, rows):
        if row.id not in inserted:
            continue
        results[i] = _credit(unit, row, programmes[row.partner_id], states[row.member_id], actor)
        payloads.append(
            {
                "memberId": str(row.member_id),
                "amountMinor": row.amount_minor,
                "currency": row.currency,
                "occurredAt": row.occurred_at.isoformat(),
                "partnerId": str(row.partner_id),
                "externalId": row.external_id,
            }
        )
    await outbox.publish_many(unit.connection, outbox.PURCHASE_RECORDED, payloads)
    return [r for r in results if r is not None]


def _credit(unit: LedgerUnit, row: PurchaseRow, partner: PartnerProgram, state: AccountRow, actor: str) -> PurchaseAnswer:
    """Credits a new purchase's points into its lot (pending for the partner's return window)."""
    lot = posted = None
    if row.points_earned:
        lot, posted = credit(
            unit,
            state,
            Credit(
                issuer_partner_id=partner.id,
                cost_per_point_minor=partner.cost_per_point_minor,
                currency=partner.currency,
                amount=row.points_earned,
                earned_at=row.occurred_at,
                vests_at=row.occurred_at + timedelta(days=partner.return_window_days),
                expires_at=add_months(row.occurred_at, partner.expiry_months),
                source=PURCHASE,
                purchase_id=row.id,
                lot_id=row.lot_id,
            ),
            kind="EARN",
            actor=actor,
            reference=row.external_id,
            detail={"purchase": str(row.id), "partner": str(partner.id)},
            transaction_id=row.transaction_id,
        )
    return PurchaseAnswer(
        purchase_id=row.id,
        partner_id=row.partner_id,
        external_id=row.external_id,
        member_id=row.member_id,
        amount_minor=row.amount_minor,
        currency=row.currency,
        occurred_at=row.occurred_at,
        category=row.category,
        points=row.points_earned,
        pending=lot is not None and lot.vested_at is None,
        vests_at=lot.vests_at if lot else None,
        expires_at=lot.expires_at if lot else None,
        lot_id=lot.id if lot else None,
        transaction_id=posted.id if posted else None,
        rule=row.rule,
        returned_minor=row.returned_minor,
        points_clawed_back=row.points_clawed_back,
        created_at=row.created_at,
    )
