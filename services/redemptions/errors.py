"""The redemptions service's typed errors (their codes are part of the API)."""

from __future__ import annotations

from shared.errors import DomainError


class MemberBlocked(DomainError):
    """Operators blocked this member from redeeming."""

    code = "MEMBER_BLOCKED"


class MemberNotActive(DomainError):
    code = "MEMBER_NOT_ACTIVE"


class NotAvailable(DomainError):
    code = "NOT_AVAILABLE"


class RateLimited(DomainError):
    """Too many redemptions in the rule's window (extensions: the limit and when to try again)."""

    code = "RATE_LIMITED"


class UnderReview(DomainError):
    """A pattern operators must look at first (an abuse signal was raised)."""

    code = "UNDER_REVIEW"


class NotRefundable(DomainError):
    """This redemption cannot be refunded (its state, or the member's window has closed)."""

    code = "NOT_REFUNDABLE"


class RefundRefused(DomainError):
    """The benefit could not be taken back (`code` is benefits' reason: ALREADY_USED, EXPIRED, …)."""

    def __init__(self, code: str, message: str, **extensions: object) -> None:
        super().__init__(message, **extensions)
        self.refused_code = code

    def as_extensions(self) -> dict[str, object]:
        return {**super().as_extensions(), "code": self.refused_code}
