"""The audit's queries: every figure the ledger check compares, read in one snapshot, and the
members' chains a batch at a time."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select, text, true

from services.points.ledger import accounts
from services.points.ledger.chain import Leg, Transaction
from services.points.models import LedgerTransaction, MemberAccount, Posting
from shared.database import Database

_accounts = MemberAccount.__table__
_transactions = LedgerTransaction.__table__
_postings = Posting.__table__

_MEMBER_POSTINGS = text(
    "SELECT split_part(account, ':', 2)::uuid AS member_id, split_part(account, ':', 3) AS bucket, sum(amount) AS total"
    " FROM points.postings WHERE account LIKE 'member:%' GROUP BY 1, 2"
)
_LOT_FIGURES = text(
    "SELECT member_id,"
    " coalesce(sum(remaining) FILTER (WHERE vested_at IS NOT NULL AND expired_at IS NULL), 0) AS available,"
    " coalesce(sum(remaining) FILTER (WHERE vested_at IS NULL AND expired_at IS NULL), 0) AS pending"
    " FROM points.lots GROUP BY member_id"
)
_HELD = text(
    "SELECT h.member_id, sum(a.amount) AS held FROM points.hold_allocations a"
    " JOIN points.holds h ON h.id = a.hold_id WHERE h.status = 'ACTIVE' GROUP BY h.member_id"
)
_HOLD_TOTALS = text(
    "SELECT h.id FROM points.holds h JOIN points.hold_allocations a ON a.hold_id = h.id"
    " GROUP BY h.id, h.amount, h.captured, h.refunded"
    " HAVING h.amount <> sum(a.amount) OR h.captured <> sum(a.captured) OR h.refunded <> sum(a.refunded) LIMIT 20"
)
# Per lot: what member-side postings carrying its id say is left in it, and held from it.
_LOT_POSTINGS = text(
    "WITH p AS ("
    "  SELECT lot_id,"
    "   coalesce(sum(amount) FILTER (WHERE account LIKE 'member%' AND split_part(account, ':', 3) IN ('available', 'pending')), 0) AS remaining,"
    "   coalesce(sum(amount) FILTER (WHERE account LIKE 'member%' AND split_part(account, ':', 3) = 'held'), 0) AS held"
    "  FROM points.postings WHERE lot_id IS NOT NULL GROUP BY lot_id),"
    " h AS (SELECT a.lot_id, sum(a.amount) AS held FROM points.hold_allocations a"
    "  JOIN points.holds ON holds.id = a.hold_id WHERE holds.status = 'ACTIVE' GROUP BY a.lot_id)"
    " SELECT l.id, l.remaining, coalesce(p.remaining, 0) AS posted_remaining,"
    "  coalesce(h.held, 0) AS held, coalesce(p.held, 0) AS posted_held"
    " FROM points.lots l LEFT JOIN p ON p.lot_id = l.id LEFT JOIN h ON h.lot_id = l.id"
    " WHERE l.remaining <> coalesce(p.remaining, 0) OR coalesce(h.held, 0) <> coalesce(p.held, 0) LIMIT 20"
)
_ISSUER_POSTINGS = text(
    "SELECT split_part(account, ':', 2) AS issuer, -sum(amount) AS outstanding"
    " FROM points.postings WHERE account LIKE 'issuer:%' GROUP BY 1"
)
_ISSUER_LOTS = text(
    "SELECT coalesce(l.issuer_partner_id::text, 'alliance') AS issuer,"
    " sum(l.remaining) + coalesce(sum(h.held), 0) AS outstanding"
    " FROM points.lots l LEFT JOIN ("
    "  SELECT a.lot_id, sum(a.amount) AS held FROM points.hold_allocations a"
    "  JOIN points.holds ON holds.id = a.hold_id WHERE holds.status = 'ACTIVE' GROUP BY a.lot_id"
    " ) h ON h.lot_id = l.id GROUP BY 1"
)


@dataclass
class Figures:
    """Everything the ledger check compares, as of one instant."""

    postings_total: int = 0
    transactions: int = 0
    unbalanced: list[tuple[uuid.UUID, int]] = field(default_factory=list)  # at most 20
    without_postings: int = 0
    posted: dict[uuid.UUID, dict[str, int]] = field(default_factory=dict)  # member -> bucket -> sum
    lots: dict[uuid.UUID, tuple[int, int]] = field(default_factory=dict)  # member -> (available, pending)
    held: dict[uuid.UUID, int] = field(default_factory=dict)  # member -> held by active holds
    accounts: list[Any] = field(default_factory=list)  # member_accounts rows
    receivable: int = 0
    lots_off: list[Any] = field(default_factory=list)  # lots whose postings disagree (at most 20)
    holds_off: list[uuid.UUID] = field(default_factory=list)  # holds whose allocations disagree (at most 20)
    issuers_by_accounts: dict[str, int] = field(default_factory=dict)
    issuers_by_lots: dict[str, int] = field(default_factory=dict)


async def read_figures(db: Database) -> Figures:
    figures = Figures()
    # One snapshot for every figure: REPEATABLE READ, read only.
    async with db.engine.connect() as connection:
        connection = await connection.execution_options(isolation_level="REPEATABLE READ")
        async with connection.begin():
            await connection.execute(text("SET TRANSACTION READ ONLY"))
            run = connection.execute
            figures.postings_total = (await run(select(func.coalesce(func.sum(_postings.c.amount), 0)))).scalar_one()
            figures.transactions = (await run(select(func.count()).select_from(_transactions))).scalar_one()
            figures.unbalanced = [
                (tx_id, amount)
                for tx_id, amount in await run(
                    select(_postings.c.transaction_id, func.sum(_postings.c.amount))
                    .group_by(_postings.c.transaction_id)
                    .having(func.sum(_postings.c.amount) != 0)
                    .limit(20)
                )
            ]
            figures.without_postings = (
                await run(
                    select(func.count()).select_from(_transactions).where(
                        ~select(_postings.c.id).where(_postings.c.transaction_id == _transactions.c.id).exists()
                    )
                )
            ).scalar_one()
            posted: dict[uuid.UUID, dict[str, int]] = defaultdict(lambda: defaultdict(int))
            for member_id, bucket, amount in await run(_MEMBER_POSTINGS):
                posted[member_id][bucket] = int(amount)
            figures.posted = posted
            figures.lots = {row.member_id: (int(row.available), int(row.pending)) for row in await run(_LOT_FIGURES)}
            figures.held = {row.member_id: int(row.held) for row in await run(_HELD)}
            figures.accounts = (await run(select(_accounts))).all()
            figures.receivable = (
                await run(select(func.coalesce(func.sum(_postings.c.amount), 0)).where(_postings.c.account == accounts.RECEIVABLE))
            ).scalar_one()
            figures.lots_off = (await run(_LOT_POSTINGS)).all()
            figures.holds_off = [hold_id for (hold_id,) in await run(_HOLD_TOTALS)]
            figures.issuers_by_accounts = {row.issuer: int(row.outstanding) for row in await run(_ISSUER_POSTINGS)}
            figures.issuers_by_lots = {row.issuer: int(row.outstanding) for row in await run(_ISSUER_LOTS)}
    return figures


@dataclass(frozen=True, slots=True)
class Chain:
    """One member's chain: their transactions in order, and what their account says its head is."""

    member_id: uuid.UUID
    length: int
    head: str
    transactions: list[Transaction]


async def members_without_accounts(db: Database) -> list[uuid.UUID]:
    """Members that have transactions but no account (their chains cannot be checked)."""
    t = _transactions
    async with db.engine.connect() as connection:
        rows = await connection.execute(
            select(t.c.member_id).distinct().where(~select(_accounts.c.member_id).where(_accounts.c.member_id == t.c.member_id).exists())
        )
        return [member_id for (member_id,) in rows]


async def chains(db: Database, *, batch: int) -> AsyncIterator[list[Chain]]:
    """Every member's chain, `batch` members at a time (bounded memory)."""
    t, p = _transactions, _postings
    after: uuid.UUID | None = None
    async with db.engine.connect() as connection:
        while True:
            heads = (
                await connection.execute(
                    select(_accounts.c.member_id, _accounts.c.chain_length, _accounts.c.chain_head)
                    .where(_accounts.c.member_id > after if after else true())
                    .order_by(_accounts.c.member_id)
                    .limit(batch)
                )
            ).all()
            if not heads:
                return
            after = heads[-1].member_id
            rows = (
                await connection.execute(select(t).where(t.c.member_id.in_([h.member_id for h in heads])).order_by(t.c.member_id, t.c.sequence))
            ).all()
            legs: dict[uuid.UUID, list[Leg]] = defaultdict(list)
            if rows:
                for tx_id, account, amount, lot_id in await connection.execute(
                    select(p.c.transaction_id, p.c.account, p.c.amount, p.c.lot_id).where(p.c.transaction_id.in_([r.id for r in rows]))
                ):
                    legs[tx_id].append(Leg(account, amount, lot_id))
            by_member: dict[uuid.UUID, list[Transaction]] = defaultdict(list)
            for r in rows:
                by_member[r.member_id].append(
                    Transaction(
                        id=r.id, member_id=r.member_id, sequence=r.sequence, kind=r.kind, actor=r.actor,
                        reference=r.reference, detail=r.detail, created_at=r.created_at,
                        prev_hash=r.prev_hash, hash=r.hash, legs=legs[r.id],
                    )
                )
            yield [Chain(h.member_id, h.chain_length, h.chain_head, by_member.get(h.member_id, [])) for h in heads]
