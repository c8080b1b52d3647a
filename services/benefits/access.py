"""Who may do what in benefits. Decided here, in the subgraph that owns the data, and called by the
service layer (never by resolvers).

| what                                         | operator | customer service | partner        | member        | service |
|----------------------------------------------|----------|------------------|----------------|---------------|---------|
| partner's public face (name, logo, cats.)    | yes      | yes              | yes            | yes           | yes     |
| partner's private profile, keys, webhooks    | yes      | read             | its own        | no            | read    |
| register / activate / suspend partners       | yes      | no               | no             | no            | no      |
| edit a partner's profile                     | yes      | no               | its own        | no            | no      |
| benefits: create, edit, pause               | any      | no               | its own        | no            | no      |
| catalogue (ACTIVE benefits)                  | all      | all              | all + own any  | ACTIVE        | all     |
| codes: upload, generate, list (masked)       | any      | masked           | own benefits   | no            | no      |
| a code in clear                              | no       | no               | at write-off   | the holder    | no      |
| reserve / issue / release / void             | no       | no               | no             | no            | yes     |
| write-off (and undo)                         | no       | no               | own benefits   | no            | no      |
| budgets                                      | any      | read             | its own        | no            | read    |
| a benefit's settlement price                 | yes      | yes              | its own        | no            | yes     |
| a member's eligible benefits                 | yes      | yes              | no             | their own     | yes     |
"""

from __future__ import annotations

import enum
import uuid

from shared.auth.principals import (
    Principal,
    PrincipalKind,
    require_authenticated,
    require_member_or_staff,
    require_operator,
    require_partner_or_operator,
    require_service,
)
from shared.errors import Forbidden

__all__ = [
    "CatalogueScope",
    "actor",
    "calling_partner",
    "catalogue_scope",
    "is_partner_manager",
    "may_read_partner_private",
    "require_operator",
    "require_partner_manager",
    "require_eligibility_reader",
    "require_partner_reader",
    "require_service",
]


def actor(principal: Principal) -> str:
    """How audits name who did something, e.g. `partner:<id>`, `staff:ops-1`, `service:redemptions`."""
    return f"{principal.kind.value}:{principal.subject}"


def is_partner_manager(principal: Principal, partner_id: uuid.UUID) -> bool:
    """The partner itself or an operator: may change the partner's things."""
    return principal.is_partner(partner_id) or principal.is_operator


def require_partner_manager(principal: Principal, partner_id: uuid.UUID) -> None:
    require_partner_or_operator(principal, partner_id)


def may_read_partner_private(principal: Principal, partner_id: uuid.UUID) -> bool:
    """Private partner data (contact, endpoints, keys' metadata, deliveries, budgets): the partner,
    staff (customer service reads) and alliance services."""
    return principal.is_partner(partner_id) or principal.is_staff or principal.is_service


def require_partner_reader(principal: Principal, partner_id: uuid.UUID) -> None:
    require_authenticated(principal)
    if not may_read_partner_private(principal, partner_id):
        raise Forbidden("a partner's own data is visible only to that partner, staff and alliance services")


def calling_partner(principal: Principal) -> uuid.UUID | None:
    """The partner's own id when a partner calls, else None."""
    return uuid.UUID(principal.subject) if principal.kind is PrincipalKind.PARTNER else None


# --- catalogue and budgets ---------------------------------------------------------------------------


class CatalogueScope(enum.Enum):
    ALL = "all"  # staff and alliance services: every benefit, in any status
    OWN_AND_ACTIVE = "own_and_active"  # a partner: its own in any status, others' as members see them
    ACTIVE = "active"  # members: ACTIVE benefits of ACTIVE partners


def catalogue_scope(principal: Principal) -> CatalogueScope:
    """Which benefits the caller sees (signed-in callers only)."""
    require_authenticated(principal)
    if principal.is_staff or principal.is_service:
        return CatalogueScope.ALL
    if principal.kind is PrincipalKind.PARTNER:
        return CatalogueScope.OWN_AND_ACTIVE
    return CatalogueScope.ACTIVE


def require_eligibility_reader(principal: Principal, member_id: uuid.UUID) -> None:
    """A member's eligible benefits: the member themself, staff and alliance services."""
    if principal.is_service:
        return
    require_member_or_staff(principal, member_id)
