"""Earning's SQL: the earning policy, campaigns, purchases and returns."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, func, or_, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.points.earning.answers import PurchaseAnswer
from services.points.earning.rows import PurchaseRow
from services.points.earning.rules import DEFAULT_TIER_MULTIPLIERS, CampaignRule, EarningPolicy
from services.points.models import Campaign, EarningPolicy as PolicyTable, Lot, Purchase
from shared.database import Database, Executor, Prepared, Unit
from shared.pagination import Page, PageRequest, paginate
from shared.timeutil import utcnow

_policy = PolicyTable.__table__
_campaigns = Campaign.__table__
_purchases = Purchase.__table__
_lots = Lot.__table__

# --- policy and campaigns ----------------------------------------------------------------------------

_CAMPAIGN = [_campaigns.c[name] for name in CampaignRule.__dataclass_fields__]


async def load_policy(executor: Executor | AsyncConnection) -> EarningPolicy:
    row = (await executor.execute(select(_policy.c.tier_multipliers_bps, _policy.c.birthday_multiplier_bps))).first()
    if row is None:
        return EarningPolicy()
    return EarningPolicy({**DEFAULT_TIER_MULTIPLIERS, **row.tier_multipliers_bps}, row.birthday_multiplier_bps)


async def save_policy(db: Database, *, tier_multipliers: dict[str, int], birthday_multiplier: int, updated_by: str) -> EarningPolicy:
    values = {
        "tier_multipliers_bps": tier_multipliers,
        "birthday_multiplier_bps": birthday_multiplier,
        "updated_at": utcnow(),
        "updated_by": updated_by,
    }
    async with db.engine.begin() as connection:
        await connection.execute(insert(_policy).values(id=1, **values).on_conflict_do_update(index_elements=["id"], set_=values))
        return await load_policy(connection)


async def campaigns_overlapping(executor: Executor | AsyncConnection, start: datetime, end: datetime) -> list[CampaignRule]:
    """Campaigns overlapping [start, end]."""
    rows = await executor.execute(select(*_CAMPAIGN).where(_campaigns.c.starts_at <= end, _campaigns.c.ends_at > start))
    return [CampaignRule(**row._mapping) for row in rows]


async def all_campaigns(db: Database) -> list[CampaignRule]:
    async with db.engine.connect() as connection:
        rows = await connection.execute(select(*_CAMPAIGN).order_by(_campaigns.c.starts_at))
        return [CampaignRule(**row._mapping) for row in rows]


async def add_campaign(db: Database, campaign: CampaignRule, *, created_by: str) -> None:
    async with db.engine.begin() as connection:
        await connection.execute(
            _campaigns.insert().values(
                **{name: getattr(campaign, name) for name in CampaignRule.__dataclass_fields__}, created_by=created_by
            )
        )


async def lock_campaign(connection: AsyncConnection, campaign_id: uuid.UUID) -> CampaignRule | None:
    row = (await connection.execute(select(*_CAMPAIGN).where(_campaigns.c.id == campaign_id).with_for_update())).first()
    return CampaignRule(**row._mapping) if row else None


async def remove_campaign(connection: AsyncConnection, campaign_id: uuid.UUID) -> None:
    await connection.execute(_campaigns.delete().where(_campaigns.c.id == campaign_id))


async def set_campaign_end(connection: AsyncConnection, campaign_id: uuid.UUID, ends_at: datetime) -> None:
    await connection.execute(_campaigns.update().where(_campaigns.c.id == campaign_id).values(ends_at=ends_at))


# --- purchases -----------------------------------------------------------------------------------


async def insert_new(unit: Unit, rows: Sequence[PurchaseRow]) -> set[uuid.UUID]:
    """Inserts the purchases whose (partner, external id) is new; the ids of those it inserted."""
    if not rows:
        return set()
    inserted = await unit.connection.execute(
        insert(_purchases).on_conflict_do_nothing().returning(_purchases.c.id), [row.values() for row in rows]
    )
    return {row.id for row in inserted}


# A purchase with its lot's terms: what its answer is made of.
_WITH_LOT = (
    select(_purchases, _lots.c.vests_at, _lots.c.expires_at)
    .select_from(_purchases.outerjoin(_lots, _lots.c.id == _purchases.c.lot_id))
)


def answer_of(row: Mapping[str, Any]) -> PurchaseAnswer:
    """The answer of a stored purchase, as its first recording gave it."""
    vests_at = row["vests_at"]
    return PurchaseAnswer(
        purchase_id=row["id"],
        partner_id=row["partner_id"],
        external_id=row["external_id"],
        member_id=row["member_id"],
        amount_minor=row["amount_minor"],
        currency=row["currency"],
        occurred_at=row["occurred_at"],
        category=row["category"],
        points=row["points_earned"],
        # Pending if the lot did not vest when the purchase was recorded.
        pending=vests_at is not None and vests_at > row["created_at"],
        vests_at=vests_at,
        expires_at=row["expires_at"],
        lot_id=row["lot_id"],
        transaction_id=row["transaction_id"],
        rule=row["rule"],
        returned_minor=row["returned_minor"],
        points_clawed_back=row["points_clawed_back"],
        created_at=row["created_at"],
    )


async def stored(unit: Unit, keys: Sequence[tuple[uuid.UUID, str]]) -> dict[tuple[uuid.UUID, str], tuple[str, PurchaseAnswer]]:
    """The stored purchases with these (partner, external id) keys: their input's fingerprint and answer."""
    rows = await unit.execute(_WITH_LOT.where(tuple_(_purchases.c.partner_id, _purchases.c.external_id).in_(list(keys))))
    return {(row.partner_id, row.external_id): (row.fingerprint, answer_of(row._mapping)) for row in rows}


async def existing_keys(unit: Unit, keys: Sequence[tuple[uuid.UUID, str]]) -> set[tuple[uuid.UUID, str]]:
    """The (partner, external id) keys among `keys` recorded already."""
    rows = await unit.execute(
        select(_purchases.c.partner_id, _purchases.c.external_id).where(
            tuple_(_purchases.c.partner_id, _purchases.c.external_id).in_(list(keys))
        )
    )
    return {(row.partner_id, row.external_id) for row in rows}


async def points_per_day(
    unit: Unit, member_ids: Iterable[uuid.UUID], partner_ids: Iterable[uuid.UUID], first: datetime, last: datetime
) -> dict[tuple[uuid.UUID, uuid.UUID, date], int]:
    """Points earned per (member, partner, UTC day of the purchase) over the days `first`..`last`
    (read under the members' locks, so current)."""
    day = func.date(func.timezone("UTC", _purchases.c.occurred_at))
    start = datetime.combine(first.astimezone(UTC).date(), time(), UTC)
    end = datetime.combine(last.astimezone(UTC).date(), time(), UTC) + timedelta(days=1)
    rows = await unit.execute(
        select(_purchases.c.member_id, _purchases.c.partner_id, day.label("day"), func.sum(_purchases.c.points_earned).label("points"))
        .where(
            _purchases.c.member_id.in_(list(member_ids)),
            _purchases.c.partner_id.in_(list(partner_ids)),
            _purchases.c.occurred_at >= start,
            _purchases.c.occurred_at < end,
        )
        .group_by(_purchases.c.member_id, _purchases.c.partner_id, day)
    )
    return {(row.member_id, row.partner_id, row.day): int(row.points) for row in rows}


_FIND = Prepared(
    select(_purchases.c.id).where(_purchases.c.partner_id == bindparam("partner_id"), _purchases.c.external_id == bindparam("external_id"))
)
_BY_ID = Prepared(select(*(_purchases.c[name] for name in PurchaseRow.COLUMNS)).where(_purchases.c.id == bindparam("id")))


async def find_purchase(unit: Unit, partner_id: uuid.UUID, external_id: str) -> uuid.UUID | None:
    row = (await unit.execute(_FIND, {"partner_id": partner_id, "external_id": external_id})).first()
    return row.id if row else None


async def load_purchase(unit: Unit, purchase_id: uuid.UUID) -> PurchaseRow:
    """The purchase, tracked (read under its member's lock, so current)."""
    (purchase,) = await unit.fetch(PurchaseRow, _BY_ID, {"id": purchase_id})
    return purchase


PURCHASE_CURSOR = (datetime, uuid.UUID)


async def purchases_page(
    db: Database, request: PageRequest, *, partner_id: uuid.UUID | None, member_id: uuid.UUID | None
) -> Page[PurchaseAnswer]:
    """Recorded purchases, newest first, of a partner and/or a member."""
    p = _purchases
    conditions = []
    if partner_id is not None:
        conditions.append(p.c.partner_id == partner_id)
    if member_id is not None:
        conditions.append(p.c.member_id == member_id)
    if request.after_values is not None:
        created, purchase_id = request.after_values
        conditions.append(or_(p.c.created_at < created, and_(p.c.created_at == created, p.c.id < purchase_id)))
    async with db.engine.connect() as connection:
        rows = await connection.execute(
            _WITH_LOT.where(*conditions).order_by(p.c.created_at.desc(), p.c.id.desc()).limit(request.fetch_limit)
        )
        answers = [answer_of(row._mapping) for row in rows]
    return paginate(answers, request, lambda a: (a.created_at, a.purchase_id))
