"""Pure rules: calendar months, times, the tier policy (no database)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared.errors import InvalidInput
from shared.timeutil import add_months, require_aware

from services.members.tiers.answers import Tier
from services.members.tiers.policy import DEFAULT_POLICY, TierPolicy

T0 = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)


def test_month_arithmetic_clamps_to_the_end_of_shorter_months() -> None:
    assert add_months(T0, -1) == datetime(2026, 2, 28, 12, 0, tzinfo=UTC)
    assert add_months(datetime(2028, 3, 31, tzinfo=UTC), -1) == datetime(2028, 2, 29, tzinfo=UTC)
    assert add_months(datetime(2026, 1, 31, tzinfo=UTC), 1) == datetime(2026, 2, 28, tzinfo=UTC)
    assert add_months(T0, -12) == datetime(2025, 3, 31, 12, 0, tzinfo=UTC)
    assert add_months(datetime(2026, 12, 15, tzinfo=UTC), 1) == datetime(2027, 1, 15, tzinfo=UTC)


def test_times_without_an_offset_are_refused() -> None:
    with pytest.raises(InvalidInput):
        require_aware(datetime(2026, 1, 1), "occurredAt")
    assert require_aware(datetime.fromisoformat("2026-01-01T08:00:00+08:00"), "x") == datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("growth", "tier"),
    [(0, "BASIC"), (1999, "BASIC"), (2000, "SILVER"), (4999, "SILVER"), (5000, "GOLD"), (9999, "GOLD"),
     (10000, "DIAMOND"), (10**7, "DIAMOND")],
)
def test_the_default_policy_qualifies_at_its_thresholds(growth: int, tier: str) -> None:
    assert DEFAULT_POLICY.qualifying(growth).code == tier


def test_the_default_policy_is_what_the_alliance_agreed() -> None:
    assert [(t.code, t.threshold) for t in DEFAULT_POLICY.tiers] == [
        ("BASIC", 0), ("SILVER", 2000), ("GOLD", 5000), ("DIAMOND", 10000)
    ]
    assert DEFAULT_POLICY.window_months == 12 and DEFAULT_POLICY.grace_days == 30
    assert DEFAULT_POLICY.window_start(T0) == datetime(2025, 3, 31, 12, 0, tzinfo=UTC)


def test_purchase_growth_is_one_per_whole_currency_unit() -> None:
    assert DEFAULT_POLICY.purchase_growth(123_456, "CNY") == 1234  # 1234.56 yuan
    assert DEFAULT_POLICY.purchase_growth(99, "CNY") == 0
    assert DEFAULT_POLICY.purchase_growth(500, "JPY") == 500  # yen have no minor unit
    assert DEFAULT_POLICY.purchase_growth(12_345, "KWD") == 12  # three decimals
    doubled = TierPolicy(tiers=DEFAULT_POLICY.tiers, purchase_growth_per_unit=2)
    assert doubled.purchase_growth(10_000, "CNY") == 200


@pytest.mark.parametrize(
    "tiers",
    [
        (Tier("BASIC", 0),),  # one tier is no ladder
        (Tier("BASIC", 10), Tier("SILVER", 20)),  # someone must hold the lowest tier
        (Tier("BASIC", 0), Tier("SILVER", 2000), Tier("GOLD", 2000)),  # not rising
        (Tier("BASIC", 0), Tier("GOLD", 5000), Tier("SILVER", 2000)),
        (Tier("BASIC", 0), Tier("BASIC", 100)),
        (Tier("basic", 0), Tier("SILVER", 100)),
        (Tier("B", 0), Tier("SILVER", 100)),
        (Tier("BASIC", 0), Tier("X" * 21, 100)),
        tuple(Tier(f"T{i}", i * 10) for i in range(11)),
    ],
)
def test_incoherent_policies_are_refused(tiers: tuple[Tier, ...]) -> None:
    with pytest.raises(InvalidInput):
        TierPolicy(tiers=tiers)


@pytest.mark.parametrize(
    "field", [{"window_months": 0}, {"grace_days": -1}, {"grace_days": 366}, {"review_growth": -5}, {"window_months": 37}]
)
def test_policy_numbers_are_bounded(field: dict[str, int]) -> None:
    with pytest.raises(InvalidInput):
        TierPolicy(tiers=DEFAULT_POLICY.tiers, **field)


def test_one_step_up_and_down_the_ladder() -> None:
    assert DEFAULT_POLICY.above("GOLD") == Tier("DIAMOND", 10000)
    assert DEFAULT_POLICY.above("DIAMOND") is None
    assert DEFAULT_POLICY.below("GOLD") == Tier("SILVER", 2000)
    assert DEFAULT_POLICY.below("BASIC") is None
