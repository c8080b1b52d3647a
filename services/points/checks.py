"""Operator checks: the ledger balances, the balances agree with the sub-ledgers, the chains hold.

`ledger_check` recomputes every figure two ways and reports each disagreement:
- postings sum to zero overall and per transaction;
- each member's stored balances equal their accounts' postings, and equal what their lots
  (available, pending), active holds (held) and debt say; available + pending + held - debt =
  earned - spent - expired;
- each lot's remaining and held points equal the postings that carry its id;
- each issuer's outstanding liability from its accounts equals its lots' remaining + held points;
- members' debt equals the alliance's receivable.
`verify_chains` recomputes every member's hash chain and reports the first broken link of each.
Both read everything: operator tools, not request paths.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func, select, text, true

from services.points import accounts
from services.points.chain import BrokenLink, ChainedTransaction, Leg, first_broken_link
from services.points.models import GENESIS_HASH, accounts_t, postings_t, transactions_t
from shared.database import Database

MAX_PROBLEMS = 50


@dataclass
class LedgerCheck:
    ok: bool = True
    transactions: int = 0
    members: int = 0
    problems: list[str] = field(default_factory=list)

    def problem(self, message: str) -> None:
        self.ok = False
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(message)


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


async def ledger_check(db: Database) -> LedgerCheck:
    result = LedgerCheck()
    # One snapshot for every figure: REPEATABLE READ, read only.
    async with db.engine.connect() as connection:
        connection = await connection.execution_options(isolation_level="REPEATABLE READ")
        async with connection.begin():
            await connection.execute(text("SET TRANSACTION READ ONLY"))
            run = connection.execute

            total = (await run(select(func.coalesce(func.sum(postings_t.c.amount), 0)))).scalar_one()
            if total != 0:
                result.problem(f"all postings sum to {total}, not 0")
            result.transactions = (await run(select(func.count()).select_from(transactions_t))).scalar_one()
            unbalanced = await run(
                select(postings_t.c.transaction_id, func.sum(postings_t.c.amount))
                .group_by(postings_t.c.transaction_id)
                .having(func.sum(postings_t.c.amount) != 0)
                .limit(20)
            )
            for tx_id, amount in unbalanced:
                result.problem(f"transaction {tx_id} postings sum to {amount}")
            empty = (
                await run(
                    select(func.count()).select_from(transactions_t).where(
                        ~select(postings_t.c.id).where(postings_t.c.transaction_id == transactions_t.c.id).exists()
                    )
                )
            ).scalar_one()
            if empty:
                result.problem(f"{empty} transaction(s) have no postings")

            posted: dict[uuid.UUID, dict[str, int]] = defaultdict(lambda: defaultdict(int))
            for member_id, bucket, amount in await run(_MEMBER_POSTINGS):
                posted[member_id][bucket] = int(amount)
            lot_figures = {row.member_id: row for row in await run(_LOT_FIGURES)}
            held = {row.member_id: int(row.held) for row in await run(_HELD)}
            total_debt = 0
            stored = await run(select(accounts_t))
            for account in stored:
                result.members += 1
                m = account.member_id
                total_debt += account.debt
                p = posted.get(m, {})
                figures = lot_figures.get(m)
                expected = {
                    "available": (p.get("available", 0), int(figures.available) if figures else 0),
                    "pending": (p.get("pending", 0), int(figures.pending) if figures else 0),
                    "held": (p.get("held", 0), held.get(m, 0)),
                    "debt": (-p.get("debt", 0), -p.get("debt", 0)),
                }
                for bucket, (from_postings, from_subledger) in expected.items():
                    value = getattr(account, bucket)
                    if value != from_postings:
                        result.problem(f"member {m} {bucket} is {value} but postings say {from_postings}")
                    if value != from_subledger:
                        result.problem(f"member {m} {bucket} is {value} but lots and holds say {from_subledger}")
                left = account.available + account.pending + account.held - account.debt
                if left != account.lifetime_earned - account.lifetime_spent - account.lifetime_expired:
                    result.problem(
                        f"member {m}: available + pending + held - debt = {left}, but earned - spent - expired = "
                        f"{account.lifetime_earned - account.lifetime_spent - account.lifetime_expired}"
                    )
            receivable = (
                await run(select(func.coalesce(func.sum(postings_t.c.amount), 0)).where(postings_t.c.account == accounts.RECEIVABLE))
            ).scalar_one()
            if receivable != total_debt:
                result.problem(f"the alliance's receivable is {receivable} but members owe {total_debt}")

            for row in await run(_LOT_POSTINGS):
                result.problem(
                    f"lot {row.id}: remaining {row.remaining} / held {row.held}, but its postings say "
                    f"{row.posted_remaining} / {row.posted_held}"
                )
            for (hold_id,) in await run(_HOLD_TOTALS):
                result.problem(f"hold {hold_id}: its amounts differ from its allocations")
            by_accounts = {row.issuer: int(row.outstanding) for row in await run(_ISSUER_POSTINGS)}
            by_lots = {row.issuer: int(row.outstanding) for row in await run(_ISSUER_LOTS)}
            for issuer in sorted(set(by_accounts) | set(by_lots)):
                if by_accounts.get(issuer, 0) != by_lots.get(issuer, 0):
                    result.problem(
                        f"issuer {issuer}: accounts say {by_accounts.get(issuer, 0)} points outstanding, lots say {by_lots.get(issuer, 0)}"
                    )
    return result


@dataclass
class ChainCheck:
    ok: bool = True
    chains: int = 0
    transactions: int = 0
    broken: list[BrokenLink] = field(default_factory=list)

    @property
    def first_broken_link(self) -> BrokenLink | None:
        """The earliest break: where tampering began (a truncated tail, which has no time, last)."""
        timed = [b for b in self.broken if b.created_at is not None]
        if timed:
            return min(timed, key=lambda b: (b.created_at, str(b.member_id)))  # type: ignore[arg-type, return-value]
        return self.broken[0] if self.broken else None


async def verify_chains(db: Database, *, batch: int = 200) -> ChainCheck:
    """Recomputes every member's chain, `batch` members at a time (bounded memory)."""
    result = ChainCheck()
    t, p = transactions_t, postings_t
    after: uuid.UUID | None = None
    async with db.engine.connect() as connection:
        orphans = await connection.execute(
            select(t.c.member_id).distinct().where(~select(accounts_t.c.member_id).where(accounts_t.c.member_id == t.c.member_id).exists())
        )
        for (member_id,) in orphans:
            result.broken.append(BrokenLink(member_id, 1, None, "transactions of a member with no account"))
        while True:
            heads = (
                await connection.execute(
                    select(accounts_t.c.member_id, accounts_t.c.chain_length, accounts_t.c.chain_head)
                    .where(accounts_t.c.member_id > after if after else true())
                    .order_by(accounts_t.c.member_id)
                    .limit(batch)
                )
            ).all()
            if not heads:
                break
            after = heads[-1].member_id
            ids = [h.member_id for h in heads]
            rows = (await connection.execute(select(t).where(t.c.member_id.in_(ids)).order_by(t.c.member_id, t.c.sequence))).all()
            legs: dict[uuid.UUID, list[Leg]] = defaultdict(list)
            if rows:
                for tx_id, account, amount, lot_id in await connection.execute(
                    select(p.c.transaction_id, p.c.account, p.c.amount, p.c.lot_id).where(p.c.transaction_id.in_([r.id for r in rows]))
                ):
                    legs[tx_id].append(Leg(account, amount, lot_id))
            chains: dict[uuid.UUID, list[ChainedTransaction]] = defaultdict(list)
            for r in rows:
                chains[r.member_id].append(
                    ChainedTransaction(
                        id=r.id, member_id=r.member_id, sequence=r.sequence, kind=r.kind, actor=r.actor,
                        reference=r.reference, detail=r.detail, created_at=r.created_at,
                        prev_hash=r.prev_hash, hash=r.hash, legs=legs[r.id],
                    )
                )
            for head in heads:
                result.chains += 1
                chain = chains.get(head.member_id, [])
                result.transactions += len(chain)
                broken = first_broken_link(
                    head.member_id, chain, genesis=GENESIS_HASH, head_length=head.chain_length, head_hash=head.chain_head
                )
                if broken:
                    result.broken.append(broken)
    result.ok = not result.broken
    return result
