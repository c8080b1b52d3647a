"""The audit's operations (operators only)."""

from __future__ import annotations

from services.points import access
from services.points.audit import rules, store
from services.points.audit.answers import ChainCheck, LedgerCheck
from services.points.ledger.chain import BrokenLink, first_broken_link
from services.points.models import GENESIS_HASH
from shared.auth import Principal
from shared.database import Database


async def ledger_check(db: Database, principal: Principal) -> LedgerCheck:
    """Recomputes every figure two ways and reports each disagreement (see `rules`)."""
    access.require_operator(principal)
    return rules.check(await store.read_figures(db))


async def verify_chains(db: Database, principal: Principal, *, batch: int = 200) -> ChainCheck:
    """Recomputes every member's hash chain; reports the first broken link of each."""
    access.require_operator(principal)
    result = ChainCheck()
    for member_id in await store.members_without_accounts(db):
        result.broken.append(BrokenLink(member_id, 1, None, "transactions of a member with no account"))
    async for chains in store.chains(db, batch=batch):
        for chain in chains:
            result.chains += 1
            result.transactions += len(chain.transactions)
            broken = first_broken_link(chain.member_id, chain.transactions, genesis=GENESIS_HASH, head_length=chain.length, head_hash=chain.head)
            if broken:
                result.broken.append(broken)
    result.ok = not result.broken
    return result
