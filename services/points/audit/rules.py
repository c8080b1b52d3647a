"""What the ledger check demands of the figures (pure):

- postings sum to zero overall and per transaction, and every transaction has postings;
- each member's stored balances equal their accounts' postings, and equal what their lots
  (available, pending), active holds (held) and debt say; available + pending + held - debt =
  earned - spent - expired;
- each lot's remaining and held points equal the postings that carry its id, and each hold's
  amounts its allocations';
- each issuer's outstanding liability from its accounts equals its lots' remaining + held points;
- members' debt equals the alliance's receivable.
"""

from __future__ import annotations

from services.points.audit.answers import LedgerCheck
from services.points.audit.store import Figures


def check(figures: Figures) -> LedgerCheck:
    result = LedgerCheck(transactions=figures.transactions)
    if figures.postings_total != 0:
        result.problem(f"all postings sum to {figures.postings_total}, not 0")
    for tx_id, amount in figures.unbalanced:
        result.problem(f"transaction {tx_id} postings sum to {amount}")
    if figures.without_postings:
        result.problem(f"{figures.without_postings} transaction(s) have no postings")

    total_debt = 0
    for account in figures.accounts:
        result.members += 1
        m = account.member_id
        total_debt += account.debt
        p = figures.posted.get(m, {})
        available, pending = figures.lots.get(m, (0, 0))
        expected = {
            "available": (p.get("available", 0), available),
            "pending": (p.get("pending", 0), pending),
            "held": (p.get("held", 0), figures.held.get(m, 0)),
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
    if figures.receivable != total_debt:
        result.problem(f"the alliance's receivable is {figures.receivable} but members owe {total_debt}")

    for row in figures.lots_off:
        result.problem(
            f"lot {row.id}: remaining {row.remaining} / held {row.held}, but its postings say "
            f"{row.posted_remaining} / {row.posted_held}"
        )
    for hold_id in figures.holds_off:
        result.problem(f"hold {hold_id}: its amounts differ from its allocations")
    by_accounts, by_lots = figures.issuers_by_accounts, figures.issuers_by_lots
    for issuer in sorted(set(by_accounts) | set(by_lots)):
        if by_accounts.get(issuer, 0) != by_lots.get(issuer, 0):
            result.problem(
                f"issuer {issuer}: accounts say {by_accounts.get(issuer, 0)} points outstanding, lots say {by_lots.get(issuer, 0)}"
            )
    return result
