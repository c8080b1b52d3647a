"""The benefits service's own typed errors, on top of the shared ones.

Delivery through a partner can end three ways besides success, and callers must treat them
differently: a refusal is final (release what was held), an unknown outcome is not (retry later
with the same idempotency key, never assume either way), and a bad signature on something a
partner sent us is an authentication failure. Each eligibility error carries `reason`, the
`IneligibilityReason` that refused the redemption, so a client can tell e.g. NOT_IN_WINDOW from
NOT_BIRTHDAY_MONTH. Classes in alphabetical order.
"""

from __future__ import annotations

from typing import Any

from shared.errors import DomainError, Unauthenticated

__all__ = [
    "AlreadyUsed",
    "BudgetExhausted",
    "DeliveryUnknown",
    "Expired",
    "MemberNotActive",
    "NotAvailable",
    "NotYours",
    "OutOfStock",
    "PartnerRefused",
    "RateLimited",
    "SignatureRejected",
    "TierTooLow",
]


class AlreadyUsed(DomainError):
    """The code was already written off (or, for a refund, used before it could be voided)."""

    code = "ALREADY_USED"


class BudgetExhausted(DomainError):
    """The benefit's or its partner's budget for the period cannot pay for another redemption."""

    code = "BUDGET_EXHAUSTED"


class Expired(DomainError):
    """The code's validity has ended."""

    code = "EXPIRED"


class MemberNotActive(DomainError):
    code = "MEMBER_NOT_ACTIVE"


class NotAvailable(DomainError):
    """Exists, but cannot be had now (a partner that is not active, a benefit not ACTIVE or out of
    its window, not the member's birthday month); `extensions["reason"]` says why."""

    code = "NOT_AVAILABLE"


class NotYours(DomainError):
    """No code of the caller's benefits matches. Said the same way whether the code belongs to
    another partner or does not exist at all, so a partner cannot probe other pools."""

    code = "NOT_YOURS"


class OutOfStock(DomainError):
    """No code is available (or the benefit's stock is taken)."""

    code = "OUT_OF_STOCK"


class PartnerRefused(DomainError):
    """The partner answered, and said no; `extensions["reason"]` is the partner's reason code."""

    code = "PARTNER_REFUSED"

    def __init__(self, message: str, *, reason: str, **extensions: Any) -> None:
        super().__init__(message, reason=reason, **extensions)
        self.reason = reason


class DeliveryUnknown(DomainError):
    """Whether the partner delivered is not known yet: retry with the same idempotency key."""

    code = "DELIVERY_UNKNOWN"


class RateLimited(DomainError):
    """Too many attempts (failed credential exchanges, say); `extensions["retryAfter"]` is in seconds."""

    code = "RATE_LIMITED"


class SignatureRejected(Unauthenticated):
    """A signed request or webhook did not verify; `extensions["reason"]` says why."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message, reason=reason)
        self.reason = reason


class TierTooLow(DomainError):
    code = "TIER_TOO_LOW"
