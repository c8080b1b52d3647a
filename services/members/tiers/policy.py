"""The tier policy: tiers and thresholds, the qualification window, the grace period, growth rates.

Pure rules (no database). A policy is versioned: each change is a new row in `tier_policies`, and
with none stored the defaults below apply (version 1).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shared.errors import InvalidInput
from shared.timeutil import add_months

from services.members.tiers.answers import Tier


TIER_CODE = re.compile(r"[A-Z][A-Z0-9_]{1,19}")
MAX_TIERS = 10
MAX_THRESHOLD = 100_000_000
MAX_INTERACTION_GROWTH = 100_000

# Currency exponents (ISO 4217) that differ from the usual 2: a "currency unit" of JPY is 1 minor
# unit, of KWD 1000. Growth is earned per whole currency unit.
_EXPONENTS = {"JPY": 0, "KRW": 0, "VND": 0, "CLP": 0, "ISK": 0, "BHD": 3, "KWD": 3, "OMR": 3, "JOD": 3, "TND": 3}
_CURRENCY = re.compile(r"[A-Z]{3}")


@dataclass(frozen=True)
class TierPolicy:
    tiers: tuple[Tier, ...]
    window_months: int = 12
    grace_days: int = 30
    purchase_growth_per_unit: int = 1
    review_growth: int = 20
    referral_growth: int = 200
    version: int = 1
    created_at: datetime | None = None
    created_by: str = "default"
    note: str | None = None
    _ranks: dict[str, int] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        validate_policy(self)
        object.__setattr__(self, "_ranks", {tier.code: i for i, tier in enumerate(self.tiers)})

    @property
    def lowest(self) -> Tier:
        return self.tiers[0]

    def has(self, code: str) -> bool:
        return code in self._ranks

    def rank(self, code: str) -> int:
        """A tier's position (0 = lowest). A code the policy no longer has ranks lowest."""
        return self._ranks.get(code, 0)

    def tier(self, code: str) -> Tier:
        return self.tiers[self.rank(code)]

    def qualifying(self, growth: int) -> Tier:
        """The highest tier whose threshold `growth` reaches."""
        best = self.tiers[0]
        for tier in self.tiers:
            if growth >= tier.threshold:
                best = tier
        return best

    def above(self, code: str) -> Tier | None:
        rank = self.rank(code)
        return self.tiers[rank + 1] if rank + 1 < len(self.tiers) else None

    def below(self, code: str) -> Tier | None:
        rank = self.rank(code)
        return self.tiers[rank - 1] if rank > 0 else None

    def window_start(self, as_of: datetime) -> datetime:
        """Growth that occurred after this instant (and not after `as_of`) counts."""
        return add_months(as_of, -self.window_months)

    def purchase_growth(self, amount_minor: int, currency: str) -> int:
        """Whole currency units × the rate; a refund (negative amount) takes growth back symmetrically."""
        units = abs(amount_minor) // 10 ** _EXPONENTS.get(currency, 2)
        growth = units * self.purchase_growth_per_unit
        return -growth if amount_minor < 0 else growth

    def as_json(self) -> dict[str, Any]:
        return {
            "tiers": [{"code": t.code, "threshold": t.threshold} for t in self.tiers],
            "window_months": self.window_months,
            "grace_days": self.grace_days,
            "purchase_growth_per_unit": self.purchase_growth_per_unit,
            "review_growth": self.review_growth,
            "referral_growth": self.referral_growth,
        }


def validate_policy(policy: TierPolicy) -> None:
    tiers = policy.tiers
    if not 2 <= len(tiers) <= MAX_TIERS:
        raise InvalidInput(f"a policy has 2 to {MAX_TIERS} tiers", field="tiers")
    codes = [t.code for t in tiers]
    if any(not TIER_CODE.fullmatch(code) for code in codes):
        raise InvalidInput("tier codes are 2–20 characters of A–Z, 0–9 and _, starting with a letter", field="tiers")
    if len(set(codes)) != len(codes):
        raise InvalidInput("tier codes must be unique", field="tiers")
    if tiers[0].threshold != 0:
        raise InvalidInput("the lowest tier's threshold must be 0 (every member holds a tier)", field="tiers")
    if any(b.threshold <= a.threshold for a, b in zip(tiers, tiers[1:])):
        raise InvalidInput("tier thresholds must rise strictly from lowest to highest", field="tiers")
    if tiers[-1].threshold > MAX_THRESHOLD:
        raise InvalidInput(f"thresholds are at most {MAX_THRESHOLD}", field="tiers")
    _bounded("windowMonths", policy.window_months, 1, 36)
    _bounded("graceDays", policy.grace_days, 0, 365)
    _bounded("purchaseGrowthPerUnit", policy.purchase_growth_per_unit, 0, 1000)
    _bounded("reviewGrowth", policy.review_growth, 0, MAX_INTERACTION_GROWTH)
    _bounded("referralGrowth", policy.referral_growth, 0, MAX_INTERACTION_GROWTH)


def _bounded(name: str, value: int, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput(f"{name} must be between {low} and {high}", field=name)


def check_currency(currency: str) -> str:
    if not isinstance(currency, str) or not _CURRENCY.fullmatch(currency):
        raise InvalidInput("currency must be an ISO 4217 code such as CNY", field="currency")
    return currency


DEFAULT_TIERS = (Tier("BASIC", 0), Tier("SILVER", 2000), Tier("GOLD", 5000), Tier("DIAMOND", 10000))
DEFAULT_POLICY = TierPolicy(tiers=DEFAULT_TIERS)


def policy_from_json(
    data: Mapping[str, Any], *, version: int, created_at: datetime | None, created_by: str, note: str | None
) -> TierPolicy:
    return TierPolicy(
        tiers=tuple(Tier(t["code"], int(t["threshold"])) for t in data["tiers"]),
        window_months=int(data["window_months"]),
        grace_days=int(data["grace_days"]),
        purchase_growth_per_unit=int(data["purchase_growth_per_unit"]),
        review_growth=int(data["review_growth"]),
        referral_growth=int(data["referral_growth"]),
        version=version,
        created_at=created_at,
        created_by=created_by,
        note=note,
    )


def tiers_from_pairs(pairs: Sequence[tuple[str, int]]) -> tuple[Tier, ...]:
    return tuple(Tier(code.strip().upper(), threshold) for code, threshold in pairs)
