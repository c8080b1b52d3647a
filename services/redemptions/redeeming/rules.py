"""The alliance-wide limits and abuse rules, decided without I/O.

Rules operators configure (null: no such rule):
- per_member_per_hour: redemptions a member may start in any hour (every attempt admitted counts,
  failed ones too: the rule slows probing down) → RATE_LIMITED;
- points_per_member_per_day: points a member may spend in any 24 hours (redemptions not FAILED or
  REFUNDED) → LIMIT_EXCEEDED;
- members_per_account / members_per_device: how many members may redeem with one video-platform
  account or one device → UNDER_REVIEW and an abuse signal;
- young_account_days with high_value_points: a member who joined fewer days ago may not redeem a
  benefit of at least that many points → UNDER_REVIEW and an abuse signal.
A signal an operator released exempts the member from that rule from then on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any


@dataclass(frozen=True, slots=True)
class Rules:
    per_member_per_hour: int | None = None
    points_per_member_per_day: int | None = None
    members_per_account: int | None = None
    members_per_device: int | None = None
    young_account_days: int | None = None
    high_value_points: int | None = None


@dataclass(frozen=True, slots=True)
class Recent:
    """The member's recent redemptions, counted under the member's lock."""

    started_last_hour: int
    oldest_in_hour: datetime | None
    points_last_day: int


@dataclass(frozen=True, slots=True)
class Attempt:
    points: int
    joined_at: datetime | None
    # Other members who redeemed with the same account / device (None: none given).
    account_members: int | None
    device_members: int | None
    released_kinds: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True, slots=True)
class Refusal:
    code: str  # RATE_LIMITED, LIMIT_EXCEEDED, UNDER_REVIEW
    message: str
    limit: dict[str, Any]
    signal: str | None = None  # the abuse signal's kind, when one is raised


SHARED_ACCOUNT = "SHARED_ACCOUNT"
SHARED_DEVICE = "SHARED_DEVICE"
YOUNG_ACCOUNT_HIGH_VALUE = "YOUNG_ACCOUNT_HIGH_VALUE"


def decide(rules: Rules, recent: Recent, attempt: Attempt, now: datetime) -> Refusal | None:
    if rules.per_member_per_hour is not None and recent.started_last_hour >= rules.per_member_per_hour:
        retry_at = (recent.oldest_in_hour or now) + timedelta(hours=1)
        return Refusal("RATE_LIMITED", f"at most {rules.per_member_per_hour} redemptions an hour",
                       {"rule": "perMemberPerHour", "limit": rules.per_member_per_hour, "retryAfter": retry_at.isoformat()})
    if rules.points_per_member_per_day is not None and recent.points_last_day + attempt.points > rules.points_per_member_per_day:
        return Refusal("LIMIT_EXCEEDED", f"at most {rules.points_per_member_per_day} points a day",
                       {"rule": "pointsPerMemberPerDay", "limit": rules.points_per_member_per_day,
                        "spent": recent.points_last_day, "requested": attempt.points})
    shared = _shared(rules.members_per_account, attempt.account_members, SHARED_ACCOUNT, "membersPerAccount", "account", attempt)
    if shared:
        return shared
    shared = _shared(rules.members_per_device, attempt.device_members, SHARED_DEVICE, "membersPerDevice", "device", attempt)
    if shared:
        return shared
    if (rules.young_account_days is not None and rules.high_value_points is not None and attempt.joined_at is not None
            and attempt.points >= rules.high_value_points and YOUNG_ACCOUNT_HIGH_VALUE not in attempt.released_kinds
            and now - attempt.joined_at < timedelta(days=rules.young_account_days)):
        return Refusal("UNDER_REVIEW", f"members of fewer than {rules.young_account_days} days redeem benefits of "
                       f"{rules.high_value_points} points or more after a review",
                       {"rule": "youngAccountDays", "limit": rules.young_account_days, "highValuePoints": rules.high_value_points},
                       YOUNG_ACCOUNT_HIGH_VALUE)
    return None


def _shared(limit: int | None, others: int | None, kind: str, rule: str, what: str, attempt: Attempt) -> Refusal | None:
    if limit is None or others is None or kind in attempt.released_kinds or others + 1 <= limit:
        return None
    return Refusal("UNDER_REVIEW", f"this {what} is already used by {others} other member(s); at most {limit} may share one",
                   {"rule": rule, "limit": limit, "members": others + 1}, kind)
