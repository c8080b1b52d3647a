"""The catalogue's pure decisions, directly: eligibility (every reason alone and every combination),
tier order, ranking, calendar boundaries, status moves and budget thresholds."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from services.benefits.catalogue import rules
from services.benefits.catalogue.rules import BenefitFacts, BudgetState, MemberFacts, Reason, Usage

NOW = datetime(2026, 5, 15, 12, 0, tzinfo=UTC)
TIERS = ("BASIC", "SILVER", "GOLD", "DIAMOND")
PARTNER = uuid.uuid4()


def benefit(**changes: object) -> BenefitFacts:
    return replace(
        BenefitFacts(id=uuid.uuid4(), partner_id=PARTNER, status="ACTIVE", partner_redeems=True, points_price=100, settlement_minor=500),
        **changes,
    )


def member(**changes: object) -> MemberFacts:
    return replace(MemberFacts(member_id=uuid.uuid4(), tier="SILVER", status="ACTIVE", birthday_month=5), **changes)


def test_an_open_benefit_is_redeemable_by_an_active_member() -> None:
    assert rules.decide(benefit(), member(), Usage(), NOW, TIERS) == ()


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"status": "PAUSED"}, Reason.NOT_AVAILABLE),
        ({"status": "DRAFT"}, Reason.NOT_AVAILABLE),
        ({"status": "RETIRED"}, Reason.NOT_AVAILABLE),
        ({"partner_redeems": False}, Reason.NOT_AVAILABLE),
        ({"available_from": NOW + timedelta(seconds=1)}, Reason.NOT_IN_WINDOW),
        ({"available_until": NOW}, Reason.NOT_IN_WINDOW),  # the end is exclusive
        ({"valid_until": NOW - timedelta(days=1)}, Reason.NOT_IN_WINDOW),
        ({"min_tier": "GOLD"}, Reason.TIER_TOO_LOW),
        ({"min_tier": "PLATINUM"}, Reason.TIER_TOO_LOW),  # unknown minimum: fails closed
        ({"in_stock": False}, Reason.OUT_OF_STOCK),
        ({"budget_headroom_minor": 499}, Reason.BUDGET_EXHAUSTED),
        ({"budget_headroom_minor": -10}, Reason.BUDGET_EXHAUSTED),
    ],
)
def test_each_benefit_side_reason_alone(changes: dict, reason: Reason) -> None:
    assert rules.decide(benefit(**changes), member(), Usage(), NOW, TIERS) == (reason,)


def test_window_edges_and_budget_edges_admit() -> None:
    assert rules.decide(benefit(available_from=NOW, available_until=NOW + timedelta(microseconds=1)), member(), Usage(), NOW, TIERS) == ()
    assert rules.decide(benefit(budget_headroom_minor=500), member(), Usage(), NOW, TIERS) == ()
    assert rules.decide(benefit(budget_headroom_minor=0, settlement_minor=0), member(), Usage(), NOW, TIERS) == ()


@pytest.mark.parametrize("status", ["SUSPENDED", "ERASED"])
def test_a_member_who_is_not_active(status: str) -> None:
    assert rules.decide(benefit(), member(status=status), Usage(), NOW, TIERS) == (Reason.MEMBER_NOT_ACTIVE,)


@pytest.mark.parametrize(
    ("member_tier", "min_tier", "ok"),
    [
        ("BASIC", None, True),
        ("BASIC", "BASIC", True),
        ("BASIC", "SILVER", False),
        ("GOLD", "SILVER", True),
        ("GOLD", "GOLD", True),
        ("DIAMOND", "GOLD", True),
        ("gold", "GOLD", True),  # codes compare case-insensitively
        ("PLATINUM", "BASIC", False),  # an unknown member tier ranks lowest
        ("PLATINUM", None, True),
        ("", "BASIC", False),
    ],
)
def test_tier_order(member_tier: str, min_tier: str | None, ok: bool) -> None:
    assert rules.meets_tier(member_tier, min_tier, TIERS) is ok
    reasons = rules.decide(benefit(min_tier=min_tier), member(tier=member_tier), Usage(), NOW, TIERS)
    assert reasons == (() if ok else (Reason.TIER_TOO_LOW,))


def test_the_tier_order_is_the_setting_given() -> None:
    custom = ("GREEN", "BLUE", "BLACK")
    assert rules.meets_tier("BLACK", "BLUE", custom) and not rules.meets_tier("GREEN", "BLUE", custom)
    assert not rules.meets_tier("GOLD", "BLUE", custom)
    assert rules.tier_rank("gold", TIERS) == 2 and rules.tier_rank("x", TIERS) == -1 and rules.tier_rank(None, TIERS) == -1


@pytest.mark.parametrize(
    ("limits", "usage", "reached"),
    [
        ({"limit_per_day": 1}, Usage(today=0, this_month=5, this_year=9, lifetime=9), False),
        ({"limit_per_day": 1}, Usage(today=1, this_month=1, this_year=1, lifetime=1), True),
        ({"limit_per_month": 2}, Usage(today=0, this_month=1, this_year=4, lifetime=4), False),
        ({"limit_per_month": 2}, Usage(today=0, this_month=2, this_year=2, lifetime=2), True),
        ({"limit_lifetime": 3}, Usage(today=0, this_month=0, this_year=0, lifetime=2), False),
        ({"limit_lifetime": 3}, Usage(today=0, this_month=0, this_year=0, lifetime=3), True),
        ({"limit_per_day": 5, "limit_per_month": 5, "limit_lifetime": 5}, Usage(1, 4, 4, 4), False),
        ({}, Usage(100, 100, 100, 100), False),
    ],
)
def test_per_member_limits(limits: dict, usage: Usage, reached: bool) -> None:
    reasons = rules.decide(benefit(**limits), member(), usage, NOW, TIERS)
    assert reasons == ((Reason.LIMIT_REACHED,) if reached else ())


def test_a_birthday_perk_once_a_year_in_the_birthday_month() -> None:
    perk = benefit(birthday_perk=True, points_price=0)
    assert rules.decide(perk, member(birthday_month=5), Usage(), NOW, TIERS) == ()
    assert rules.decide(perk, member(birthday_month=6), Usage(), NOW, TIERS) == (Reason.NOT_BIRTHDAY_MONTH,)
    assert rules.decide(perk, member(birthday_month=None), Usage(), NOW, TIERS) == (Reason.NOT_BIRTHDAY_MONTH,)
    used_this_year = Usage(today=0, this_month=0, this_year=1, lifetime=1)
    assert rules.decide(perk, member(), used_this_year, NOW, TIERS) == (Reason.LIMIT_REACHED,)
    used_last_year = Usage(today=0, this_month=0, this_year=0, lifetime=1)
    assert rules.decide(perk, member(), used_last_year, NOW, TIERS) == ()
    # The month is the UTC one: 1 June 00:30 in UTC+8 is still 31 May in UTC.
    late_may = datetime(2026, 5, 31, 16, 30, tzinfo=UTC)
    assert rules.decide(perk, member(birthday_month=5), Usage(), late_may, TIERS) == ()


# Every combination of the eight conditions: the reasons are exactly the failing ones, in order.
CONDITIONS: dict[Reason, tuple[dict, dict, Usage]] = {
    Reason.NOT_AVAILABLE: ({"status": "PAUSED"}, {}, Usage()),
    Reason.MEMBER_NOT_ACTIVE: ({}, {"status": "SUSPENDED"}, Usage()),
    Reason.NOT_IN_WINDOW: ({"available_until": NOW - timedelta(days=1)}, {}, Usage()),
    Reason.TIER_TOO_LOW: ({"min_tier": "DIAMOND"}, {}, Usage()),
    Reason.NOT_BIRTHDAY_MONTH: ({"birthday_perk": True}, {"birthday_month": 1}, Usage()),
    Reason.LIMIT_REACHED: ({"limit_per_day": 1}, {}, Usage(today=1, this_month=1, this_year=1, lifetime=1)),
    Reason.OUT_OF_STOCK: ({"in_stock": False}, {}, Usage()),
    Reason.BUDGET_EXHAUSTED: ({"budget_headroom_minor": 0}, {}, Usage()),
}


@pytest.mark.parametrize("failing", [c for n in range(len(Reason) + 1) for c in itertools.combinations(list(Reason), n)])
def test_every_combination_of_reasons(failing: tuple[Reason, ...]) -> None:
    b_changes: dict = {}
    m_changes: dict = {}
    usage = Usage()
    for reason in failing:
        b, m, u = CONDITIONS[reason]
        b_changes.update(b)
        m_changes.update(m)
        usage = u if u != Usage() else usage
    # A birthday perk whose condition is not under test is in the member's month; its yearly use
    # counts only when LIMIT_REACHED is under test.
    reasons = rules.decide(benefit(**b_changes), member(**m_changes), usage, NOW, TIERS)
    assert reasons == tuple(r for r in Reason if r in failing)
    assert (reasons == ()) == (not failing)


def test_benefit_reasons_ignore_the_member() -> None:
    assert rules.benefit_reasons(benefit(min_tier="DIAMOND", birthday_perk=True), NOW) == ()
    assert rules.benefit_reasons(benefit(status="DRAFT", in_stock=False), NOW) == (Reason.NOT_AVAILABLE, Reason.OUT_OF_STOCK)


def test_ranking_interests_first_then_redeemable_then_price() -> None:
    m = member(categories=("video", "coffee"))
    cheap_unrelated = benefit(points_price=10)
    pricey_unrelated = benefit(points_price=900)
    video = benefit(points_price=500, categories=("video",))
    video_and_coffee_tag = benefit(points_price=800, categories=("video",), tags=("coffee",))
    video_out_of_stock = benefit(points_price=100, categories=("video",), in_stock=False)
    gold_only = benefit(points_price=1, min_tier="GOLD")
    ranked = rules.rank([cheap_unrelated, pricey_unrelated, video, video_and_coffee_tag, video_out_of_stock, gold_only], m, {}, NOW, TIERS)
    assert [v.benefit for v in ranked] == [
        video_and_coffee_tag, video, video_out_of_stock, cheap_unrelated, pricey_unrelated, gold_only
    ]
    assert [v.interest for v in ranked] == [2, 1, 1, 0, 0, 0]
    assert [v.redeemable for v in ranked] == [True, True, False, True, True, False]


def test_ranking_ties_break_by_id_and_usage_is_per_benefit() -> None:
    a, b = sorted([benefit(), benefit()], key=lambda f: f.id)
    m = member()
    ranked = rules.rank([b, a], m, {b.id: Usage(1, 1, 1, 1)}, NOW, TIERS)
    assert [v.benefit for v in ranked] == [a, b]
    limited = replace(b, limit_lifetime=1)
    ranked = rules.rank([limited, a], m, {limited.id: Usage(0, 0, 0, 1)}, NOW, TIERS)
    assert [v.reasons for v in ranked] == [(), (Reason.LIMIT_REACHED,)]


def test_calendar_boundaries_are_utc() -> None:
    local = datetime(2026, 3, 1, 7, 0, tzinfo=UTC).astimezone(__import__("datetime").timezone(timedelta(hours=8)))
    assert rules.month_start(local) == datetime(2026, 3, 1, tzinfo=UTC)
    assert rules.day_start(NOW) == datetime(2026, 5, 15, tzinfo=UTC)
    assert rules.month_start(NOW) == datetime(2026, 5, 1, tzinfo=UTC)
    assert rules.year_start(NOW) == datetime(2026, 1, 1, tzinfo=UTC)
    assert rules.month_start(datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC)) == datetime(2026, 12, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("current", "target", "ok"),
    [(c, t, (c, t) in {("DRAFT", "ACTIVE"), ("DRAFT", "RETIRED"), ("ACTIVE", "PAUSED"), ("ACTIVE", "RETIRED"),
                       ("PAUSED", "ACTIVE"), ("PAUSED", "RETIRED")})
     for c in rules.TRANSITIONS for t in rules.TRANSITIONS if c != t],
)
def test_status_moves(current: str, target: str, ok: bool) -> None:
    assert rules.may_move(current, target) is ok


@pytest.mark.parametrize(
    ("state", "fires"),
    [
        (BudgetState(1000, 0, 0, (80, 100)), ()),
        (BudgetState(1000, 799, 0, (80, 100)), ()),
        (BudgetState(1000, 400, 400, (80, 100)), (80,)),
        (BudgetState(1000, 0, 1000, (80, 100)), (80, 100)),
        (BudgetState(1000, 0, 1000, (80, 100), (80,)), (100,)),
        (BudgetState(1000, 0, 1200, (100, 80, 50)), (50, 80, 100)),
        (BudgetState(1000, 0, 1000, (80, 100), (80, 100)), ()),
        (BudgetState(0, 0, 0, (80, 100)), ()),  # nothing used, nothing fires, even of a zero budget
        (BudgetState(0, 1, 0, (80, 100)), (80, 100)),
        (BudgetState(3, 2, 0, (67,)), ()),  # 66.7 % < 67 %: integer arithmetic, no rounding up
        (BudgetState(3, 2, 0, (66,)), (66,)),
    ],
)
def test_thresholds_reached(state: BudgetState, fires: tuple[int, ...]) -> None:
    assert rules.thresholds_reached(state) == fires
    assert state.remaining_minor == max(state.limit_minor - state.used_minor, 0)


# --- the incremental ranking agrees with the full one ------------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

CATEGORIES = ("video", "coffee", "travel", "food")


@st.composite
def catalogues(draw: st.DrawFn) -> tuple[list[BenefitFacts], MemberFacts]:
    count = draw(st.integers(0, 30))
    benefits = [
        benefit(
            points_price=draw(st.integers(0, 5)),  # few prices: many ties, broken by id
            categories=tuple(draw(st.sets(st.sampled_from(CATEGORIES), max_size=2))),
            tags=tuple(draw(st.sets(st.sampled_from(CATEGORIES), max_size=2))),
            in_stock=draw(st.booleans()),
            min_tier=draw(st.sampled_from([None, None, "GOLD"])),
        )
        for _ in range(count)
    ]
    return benefits, member(categories=tuple(draw(st.sets(st.sampled_from(CATEGORIES), max_size=3))))


def streamed(benefits: list[BenefitFacts], m: MemberFacts, after: tuple | None = None) -> list[rules.Verdict]:
    ranker = rules.Ranker(m, {}, NOW, TIERS, after)
    order = sorted(benefits, key=lambda b: (-rules.interest(b, m), b.points_price, b.id))
    out: list[rules.Verdict] = []
    for b in order:
        out.extend(ranker.push(b, rules.interest(b, m)))
    return out + ranker.finish()


@settings(max_examples=300, deadline=None)
@given(catalogues(), st.integers(0, 30))
def test_the_incremental_ranking_is_the_full_ranking(catalogue: tuple, cut: int) -> None:
    benefits, m = catalogue
    full = rules.rank(benefits, m, {}, NOW, TIERS)
    assert streamed(benefits, m) == full
    if full:
        after = full[min(cut, len(full) - 1)].rank_key()
        assert streamed(benefits, m, after) == [v for v in full if v.rank_key() > after]
