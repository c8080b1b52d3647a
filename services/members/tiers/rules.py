"""Pure decisions about growth and tiers (no I/O): what growth input is acceptable and worth, where
a member stands, and what growth or a review does to their tier.

Growth counts over a rolling window (12 months by default): a member holds the highest tier whose
threshold their rolling growth reaches. Upgrades happen at once, when growth arrives. Downgrades
happen only in the review, one level at a time and only after a grace period: the first review
that finds a member below their tier marks them; a review at least `grace_days` later that still
finds them below downgrades them.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from shared.errors import InvalidInput
from shared.idempotency import fingerprint
from shared.timeutil import require_aware

from services.members.tiers.answers import GrowthInput, GrowthKind, Tier, TierProgress
from services.members.tiers.policy import TierPolicy, check_currency

MAX_EVENT_ID = 200
MAX_AMOUNT_MINOR = 10**12
CLOCK_SKEW = timedelta(minutes=5)
_EVENT_ID = re.compile(r"[\x21-\x7e]{1,200}")  # printable ASCII, no spaces
MAX_NOTE = 500


# --- input -------------------------------------------------------------------------------------


def validated(entry: GrowthInput, now: datetime) -> GrowthInput:
    """The entry with its kind, time and currency checked and normalised; InvalidInput otherwise."""
    if not isinstance(entry.event_id, str) or not _EVENT_ID.fullmatch(entry.event_id):
        raise InvalidInput(f"eventId must be 1–{MAX_EVENT_ID} printable characters without spaces", field="eventId")
    try:
        kind = GrowthKind(entry.kind)
    except ValueError:
        raise InvalidInput(f"kind must be one of {', '.join(k.value for k in GrowthKind)}", field="kind") from None
    occurred_at = require_aware(entry.occurred_at, "occurredAt")
    if occurred_at > now + CLOCK_SKEW:
        raise InvalidInput("occurredAt is in the future", field="occurredAt")
    amount, currency = entry.amount_minor, entry.currency
    if kind in (GrowthKind.PURCHASE, GrowthKind.RETURN):
        if isinstance(amount, bool) or not isinstance(amount, int) or not 0 < amount <= MAX_AMOUNT_MINOR:
            raise InvalidInput(f"amountMinor must be between 1 and {MAX_AMOUNT_MINOR}", field="amountMinor")
        currency = check_currency(currency)  # type: ignore[arg-type]
    elif amount is not None or currency is not None:
        raise InvalidInput(f"a {kind.value} carries no amount", field="amountMinor")
    return replace(entry, kind=kind, occurred_at=occurred_at, currency=currency)


def growth_of(entry: GrowthInput, policy: TierPolicy) -> int:
    if entry.kind is GrowthKind.PURCHASE:
        return policy.purchase_growth(entry.amount_minor or 0, entry.currency or "")
    if entry.kind is GrowthKind.RETURN:
        return -policy.purchase_growth(entry.amount_minor or 0, entry.currency or "")
    return policy.review_growth if entry.kind is GrowthKind.REVIEW else policy.referral_growth


def fingerprint_of(entry: GrowthInput) -> str:
    # What the event says, not who delivered it: the same event may come by mutation and by the inbox.
    return fingerprint(
        {
            "member": str(entry.member_id), "kind": entry.kind.value, "amount": entry.amount_minor,
            "currency": entry.currency, "at": entry.occurred_at.isoformat(),
        }
    )


def history_limit(limit: int) -> int:
    if not 1 <= limit <= 100:
        raise InvalidInput("limit must be between 1 and 100", field="limit")
    return limit


def policy_note(note: str | None) -> str | None:
    if note is not None and len(note) > MAX_NOTE:
        raise InvalidInput(f"note is longer than {MAX_NOTE} characters", field="note")
    return note


def review_instant(as_of: datetime | None, now: datetime) -> datetime:
    """A review by hand may not look into the future (growth could still arrive before then)."""
    as_of = require_aware(as_of, "asOf") if as_of is not None else now
    if as_of > now + CLOCK_SKEW:
        raise InvalidInput("asOf is in the future", field="asOf")
    return as_of


# --- where a member stands ---------------------------------------------------------------------


def tier_progress(
    policy: TierPolicy, tier: str, below_threshold_since: datetime | None, rolling: int, as_of: datetime
) -> TierProgress:
    current = policy.tier(tier)
    above = policy.above(tier)
    since = below_threshold_since
    return TierProgress(
        tier=tier,
        rolling_growth=rolling,
        window_start=policy.window_start(as_of),
        window_end=as_of,
        next_tier=above.code if above else None,
        growth_to_next_tier=max(above.threshold - rolling, 0) if above else None,
        growth_to_keep_tier=max(current.threshold - rolling, 0),
        below_threshold_since=since,
        downgrade_review_from=since + timedelta(days=policy.grace_days) if since else None,
        policy_version=policy.version,
    )


# --- what growth and the review do -------------------------------------------------------------


class Step(enum.Enum):
    STAY = "stay"
    UPGRADE = "upgrade"  # to `Decision.to`
    CLEAR = "clear"  # back above the line: the grace period ends
    MARK = "mark"  # below the line for the first time: the grace period starts
    DOWNGRADE = "downgrade"  # one level, to `Decision.to`


@dataclass(frozen=True)
class Decision:
    step: Step
    to: Tier | None = None
    still_below: bool = False  # after a downgrade, still below the new tier: its grace starts


STAY = Decision(Step.STAY)


def _upgrade(policy: TierPolicy, tier: str, rolling: int) -> Decision | None:
    """An upgrade when growth qualifies for more (or the tier is one the policy no longer has)."""
    qualifying = policy.qualifying(rolling)
    if policy.rank(qualifying.code) > policy.rank(tier) or not policy.has(tier):
        return Decision(Step.UPGRADE, qualifying) if qualifying.code != tier else STAY
    return None


def on_growth(policy: TierPolicy, tier: str, below_since: datetime | None, rolling: int) -> Decision:
    """Growth upgrades at once; it never downgrades (a return waits for the review)."""
    upgrade = _upgrade(policy, tier, rolling)
    if upgrade is not None:
        return upgrade
    if below_since is not None and rolling >= policy.tier(tier).threshold:
        return Decision(Step.CLEAR)  # back above the line before the grace ran out
    return STAY


def on_review(
    policy: TierPolicy, tier: str, tier_since: datetime, below_since: datetime | None, rolling: int, as_of: datetime
) -> Decision | None:
    """What the review as of `as_of` does to one member; None when their tier state is newer than
    `as_of` (a review never undoes what happened after the moment it looks at)."""
    if tier_since > as_of or (below_since is not None and below_since > as_of):
        return None
    upgrade = _upgrade(policy, tier, rolling)
    if upgrade is not None:
        return upgrade
    if rolling >= policy.tier(tier).threshold:
        return Decision(Step.CLEAR) if below_since is not None else STAY
    if below_since is None:
        return Decision(Step.MARK)
    # Strictly after the mark: a re-run at the same instant must not act twice (grace may be 0).
    grace = timedelta(days=policy.grace_days)
    if as_of > below_since and as_of >= below_since + grace and tier_since < as_of:
        lower = policy.below(tier)
        assert lower is not None  # the lowest tier's threshold is 0: nobody is below it
        return Decision(Step.DOWNGRADE, lower, still_below=rolling < lower.threshold)
    return STAY
