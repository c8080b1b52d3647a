"""Spending's decisions (pure): hold states, and how settlement value is split and reversed.

A capture books one line per consumed lot: the lot's issuer owes the beneficiary its pro-rata share
of the settlement value (shares are whole minor units that add up to the value exactly). A refund
books negative lines; cumulative rounding makes a full refund reverse a line exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from shared.errors import Conflict

ACTIVE, CAPTURED, RELEASED, EXPIRED = "ACTIVE", "CAPTURED", "RELEASED", "EXPIRED"


def require_active(hold_id: object, status: str, expires_at: datetime, now: datetime) -> None:
    """A hold may be captured only while active and within its time limit."""
    if status != ACTIVE:
        raise Conflict(f"the hold is {status.lower()}", holdId=str(hold_id), holdStatus=status)
    if expires_at <= now:
        raise Conflict("the hold has expired", holdId=str(hold_id), holdStatus=EXPIRED)


def split_pro_rata(total: int, weights: Sequence[int]) -> list[int]:
    """Integer shares of `total` proportional to `weights`, summing to `total` exactly (largest
    remainders get the leftover units; ties go to the earlier weight)."""
    if total < 0 or any(w < 0 for w in weights):
        raise ValueError("total and weights must not be negative")
    weight_sum = sum(weights)
    if weight_sum == 0:
        if total:
            raise ValueError("cannot split a non-zero total over zero weights")
        return [0] * len(weights)
    shares = [total * w // weight_sum for w in weights]
    remainders = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % weight_sum), i))
    for i in remainders[: total - sum(shares)]:
        shares[i] += 1
    return shares


def reversal(settled: int, captured: int, refunded_before: int, refunded_after: int) -> int:
    """How much of a lot's settled value a refund reverses: the share of what is refunded after,
    minus what earlier refunds reversed (so rounding never drifts, and all of it comes back)."""
    return settled * refunded_after // captured - settled * refunded_before // captured
