"""Who may do what in benefits. Decided here, in the subgraph that owns the data, and called by the
service layer (never by resolvers).

| what                                         | operator | customer service | partner        | member        | service |
|----------------------------------------------|----------|------------------|----------------|---------------|---------|
| partner's public face (name, logo, cats.)    | yes      | yes              | yes            | yes           | yes     |
| partner's private profile, keys, webhooks    | yes      | read             | its own        | no            | read    |
| the list of partners                         | yes      | yes              | no             | no            | yes     |
| register / activate / suspend partners       | yes      | no               | no             | no            | no      |
| edit a partner's profile (roles: operators)  | yes      | no               | its own        | no            | no      |
| issue API keys                               | yes      | no               | no             | no            | no      |
| revoke API keys, rotate the webhook secret,  | yes      | no               | its own        | no            | no      |
| redeliver webhooks                           |          |                  |                |               |         |
| benefits: create, edit, pause               | any      | no               | its own        | no            | no      |
| catalogue (ACTIVE benefits)                  | all      | all              | all + own any  | ACTIVE        | all     |
| codes: upload, generate, list (masked)       | any      | masked           | own benefits   | no            | no      |
| a code in clear                              | no       | no               | at write-off   | the holder    | no      |
| reserve / issue / release / void             | no       | no               | no             | no            | yes     |
| write-off (and undo)                         | no       | no               | own benefits   | no            | no      |
| budgets                                      | any      | read             | its own        | no            | read    |
"""

from __future__ import annotations

import uuid

from shared.auth.principals import (
    Principal,
    PrincipalKind,
    require_authenticated,
    require_operator,
    require_partner_or_operator,
    require_service,
)
from shared.errors import Forbidden

__all__ = [
    "actor",
    "calling_partner",
    "is_partner_manager",
    "may_read_partner_private",
    "require_operator",
    "require_partner_directory_reader",
    "require_partner_manager",
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


def require_partner_directory_reader(principal: Principal) -> None:
    """The list of all partners: staff and alliance services (partners and members read partners one
    at a time, by reference)."""
    require_authenticated(principal)
    if not (principal.is_staff or principal.is_service):
        raise Forbidden("the partner directory is for alliance staff and services")


def calling_partner(principal: Principal) -> uuid.UUID | None:
    """The partner's own id when a partner calls, else None."""
    return uuid.UUID(principal.subject) if principal.kind is PrincipalKind.PARTNER else None
