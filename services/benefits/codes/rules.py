"""Pure decisions about codes: the form a code is found by, masking, validity, stock and low stock.

A code is kept exactly as the partner issued it (case included: an activation code may be case
sensitive on the partner's platform), and found by a keyed hash of its *index form*: the code with
whitespace and hyphens taken out, which is how it is typed at a till or printed in groups
(`ABCD-EFGH-JKMN`). A code presented for write-off may have been typed in another case or with a
look-alike of one of our generated codes, so it is looked up under each of a few forms at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from services.benefits.codes.generate import DEFAULT_FORMAT

MASK = "••••••"
# A code presented for write-off or uploaded, before trimming: anything longer is not a code.
MAX_PRESENTED_LENGTH = 200
# The code states a code may be in once it was issued to a member (what `Member.codes` lists).
ISSUED_STATES = ("ISSUED", "USED", "VOIDED", "EXPIRED")


def index_form(code: str) -> str:
    """The form a code is stored under and found by: no whitespace, no hyphens, case kept."""
    return "".join(code.split()).replace("-", "")


def lookup_forms(presented: str) -> list[str]:
    """The forms to look a presented code up by, most literal first: as typed, upper-cased, and
    normalised as one of our generated codes (look-alikes mapped). Duplicates and empties left out."""
    literal = index_form(presented)
    forms = [literal, literal.upper(), DEFAULT_FORMAT.normalise(presented)]
    return [form for form in dict.fromkeys(forms) if form]


def last4(code: str) -> str:
    return index_form(code)[-4:]


def masked(last_four: str) -> str:
    """How everyone but the code's holder sees it: `••••••AB12`."""
    return MASK + last_four


def valid_until(issued_at: datetime, validity_days: int | None, benefit_valid_until: datetime | None) -> datetime | None:
    """An issued code's end of validity: `validity_days` after issue or the benefit's fixed end,
    whichever comes first; None when the benefit sets neither."""
    ends = [benefit_valid_until] if benefit_valid_until is not None else []
    if validity_days is not None:
        ends.append(issued_at + timedelta(days=validity_days))
    return min(ends) if ends else None


def is_past(moment: datetime | None, now: datetime) -> bool:
    return moment is not None and now >= moment


@dataclass(frozen=True, slots=True)
class Stock:
    """What a benefit has, by state. `available`/`total` are None for an unlimited recharge."""

    available: int | None
    reserved: int
    issued: int
    used: int
    voided: int
    expired: int
    total: int | None


def code_stock(counts: dict[str, int]) -> Stock:
    """A code pool's stock from its counts by state."""
    get = counts.get
    return Stock(
        available=get("AVAILABLE", 0), reserved=get("RESERVED", 0), issued=get("ISSUED", 0), used=get("USED", 0),
        voided=get("VOIDED", 0), expired=get("EXPIRED", 0), total=sum(counts.values()),
    )


def counter_stock(total: int | None, reserved: int, issued: int) -> Stock:
    """A recharge benefit's stock from its counters (no total: unlimited)."""
    available = None if total is None else total - reserved - issued
    return Stock(available=available, reserved=reserved, issued=issued, used=0, voided=0, expired=0, total=total)


def is_low(available: int | None, threshold: int | None) -> bool:
    """Below the owner's threshold (never for an unlimited stock or without a threshold)."""
    return available is not None and threshold is not None and available < threshold
