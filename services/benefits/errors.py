"""The benefits service's own typed errors (stable `extensions.code`), beside shared.errors'.

Kept in alphabetical order. Each eligibility error carries `reason`, the `IneligibilityReason` that
refused the redemption, so a client can tell e.g. NOT_IN_WINDOW from NOT_BIRTHDAY_MONTH.
"""

from __future__ import annotations

from shared.errors import DomainError


class BudgetExhausted(DomainError):
    code = "BUDGET_EXHAUSTED"


class MemberNotActive(DomainError):
    code = "MEMBER_NOT_ACTIVE"


class NotAvailable(DomainError):
    """The benefit cannot be redeemed at the moment (not active, outside its window, not the
    member's birthday month)."""

    code = "NOT_AVAILABLE"


class OutOfStock(DomainError):
    code = "OUT_OF_STOCK"


class TierTooLow(DomainError):
    code = "TIER_TOO_LOW"
