"""Pure decisions about codes: the forms a code is found by, masking, validity, stock, low stock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.benefits.codes import rules
from services.benefits.codes.generate import DEFAULT_FORMAT

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def test_the_index_form_drops_separators_and_keeps_case() -> None:
    assert rules.index_form(" AB-CD ef\t12 ") == "ABCDef12"
    assert rules.index_form("---") == ""
    assert rules.last4("abcd-EFGH") == "EFGH"


def test_a_presented_code_is_looked_up_as_typed_upper_cased_and_normalised_as_ours() -> None:
    code = DEFAULT_FORMAT.generate()
    typed = "-".join(code[i : i + 4] for i in range(0, len(code), 4)).lower()
    assert code in rules.lookup_forms(typed)
    assert rules.lookup_forms(typed)[0] == rules.index_form(typed)  # the literal form first
    assert rules.lookup_forms("ab-cd") == ["abcd", "ABCD"]
    assert rules.lookup_forms(" - ") == []


def test_masking_shows_only_the_last_four() -> None:
    assert rules.masked("AB12") == "••••••AB12"


def test_validity_is_the_earlier_of_days_after_issue_and_the_fixed_end() -> None:
    assert rules.valid_until(NOW, 30, None) == NOW + timedelta(days=30)
    assert rules.valid_until(NOW, 30, NOW + timedelta(days=5)) == NOW + timedelta(days=5)
    assert rules.valid_until(NOW, 3, NOW + timedelta(days=5)) == NOW + timedelta(days=3)
    assert rules.valid_until(NOW, None, None) is None
    assert rules.is_past(NOW, NOW) and not rules.is_past(None, NOW) and not rules.is_past(NOW + timedelta(seconds=1), NOW)


def test_stock_from_counts_and_from_counters() -> None:
    stock = rules.code_stock({"AVAILABLE": 3, "USED": 2, "EXPIRED": 1})
    assert (stock.available, stock.used, stock.expired, stock.reserved, stock.total) == (3, 2, 1, 0, 6)
    assert rules.counter_stock(10, 2, 3).available == 5
    unlimited = rules.counter_stock(None, 2, 3)
    assert unlimited.available is None and unlimited.total is None


def test_low_means_strictly_below_a_threshold() -> None:
    assert rules.is_low(4, 5) and not rules.is_low(5, 5)
    assert not rules.is_low(None, 5) and not rules.is_low(0, None)
