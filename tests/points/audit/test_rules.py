"""The ledger check's rules, on figures made up to disagree in one way each."""

from __future__ import annotations

import uuid
from types import SimpleNamespace

from services.points.audit.rules import check
from services.points.audit.store import Figures


def _account(member_id: uuid.UUID, **balances: int) -> SimpleNamespace:
    fields = dict(available=0, pending=0, held=0, debt=0, lifetime_earned=0, lifetime_spent=0, lifetime_expired=0)
    return SimpleNamespace(member_id=member_id, **{**fields, **balances})


def _consistent() -> Figures:
    """One member with 70 available and 30 held of 100 earned, all of it agreeing."""
    m = uuid.uuid4()
    return Figures(
        transactions=2,
        posted={m: {"available": 70, "held": 30}},
        lots={m: (70, 0)},
        held={m: 30},
        accounts=[_account(m, available=70, held=30, lifetime_earned=100)],
        issuers_by_accounts={"alliance": 100},
        issuers_by_lots={"alliance": 100},
    )


def test_consistent_figures_pass() -> None:
    result = check(_consistent())
    assert (result.ok, result.members, result.transactions, result.problems) == (True, 1, 2, [])


def test_each_disagreement_is_reported() -> None:
    figures = _consistent()
    figures.postings_total = 5
    figures.unbalanced = [(uuid.uuid4(), 5)]
    figures.accounts[0].available = 75  # the stored balance drifted from postings and lots
    figures.receivable = 3  # nobody owes anything
    figures.issuers_by_lots = {"alliance": 90}
    problems = check(figures).problems
    assert any("all postings sum to 5" in p for p in problems)
    assert any("postings sum to 5" in p and "transaction" in p for p in problems)
    assert any("available is 75 but postings say 70" in p for p in problems)
    assert any("available is 75 but lots and holds say 70" in p for p in problems)
    assert any("earned - spent - expired" in p for p in problems)
    assert any("receivable is 3 but members owe 0" in p for p in problems)
    assert any("issuer alliance" in p for p in problems)


def test_problems_are_capped_but_the_verdict_is_not() -> None:
    figures = _consistent()
    figures.holds_off = [uuid.uuid4() for _ in range(80)]
    result = check(figures)
    assert not result.ok and len(result.problems) == 50
