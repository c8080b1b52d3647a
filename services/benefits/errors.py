"""The benefits service's own typed errors, on top of the shared ones.

Delivery through a partner can end three ways besides success, and callers must treat them
differently: a refusal is final (release what was held), an unknown outcome is not (retry later
with the same idempotency key, never assume either way), and a bad signature on something a
partner sent us is an authentication failure.
"""

from __future__ import annotations

from typing import Any

from shared.errors import DomainError, Unauthenticated

__all__ = ["DeliveryUnknown", "PartnerRefused", "SignatureRejected"]


class PartnerRefused(DomainError):
    """The partner answered, and said no; `extensions["reason"]` is the partner's reason code."""

    code = "PARTNER_REFUSED"

    def __init__(self, message: str, *, reason: str, **extensions: Any) -> None:
        super().__init__(message, reason=reason, **extensions)
        self.reason = reason


class DeliveryUnknown(DomainError):
    """Whether the partner delivered is not known yet: retry with the same idempotency key."""

    code = "DELIVERY_UNKNOWN"


class SignatureRejected(Unauthenticated):
    """A signed request or webhook did not verify; `extensions["reason"]` says why."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message, reason=reason)
        self.reason = reason
