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
| revoke API keys, rotate the webhook and      | yes      | no               | its own        | no            | no      |
| fulfilment secrets, redeliver webhooks       |          |                  |                |               |         |
| benefits: create, edit, pause               | any      | no               | its own        | no            | no      |
| catalogue (ACTIVE benefits)                  | all      | all              | all + own any  | ACTIVE        | all     |
| codes: upload, generate, list (masked)       | any      | masked           | own benefits   | no            | no      |
| a code in clear                              | no       | no               | at write-off   | the holder    | no      |
| reserve / issue / release / void             | no       | no               | no             | no            | yes     |
| deliver / revoke a recharge                  | no       | no               | no             | no            | yes     |
| a recharge's delivery attempts               | yes      | yes              | own benefits   | no            | yes     |
| write-off (and undo)                         | no       | no               | own benefits   | no            | no      |
| budgets                                      | any      | read             | its own        | no            | read    |
| a benefit's settlement price                 | yes      | yes              | its own        | no            | yes     |
| a member's eligible benefits                 | yes      | yes              | no             | their own     | yes     |

"service" is a service in the list for that row below (`READERS`, `RESERVERS`); any other service
reads what a member reads and may change nothing.
"""

from __future__ import annotations

import enum
import uuid

from shared.auth.principals import (
    Principal,
    is_service_in,
    PrincipalKind,
    require_authenticated,
    require_member_or_staff,
    require_operator,
    require_partner_or_operator,
    require_service_in,
)
from shared.errors import Forbidden

# Which services may call what (each list names the services that call it today).
RESERVERS = frozenset({"redemptions"})  # reserve / issue / release / void codes, deliver / revoke recharges
READERS = frozenset({"redemptions"})  # any benefit, partner's private data, reservations, settlement prices

__all__ = [
    "CatalogueScope",
    "actor",
    "calling_partner",
    "catalogue_scope",
    "is_partner_manager",
    "may_read_partner_private",
    "may_see_benefit",
    "require_benefit_reader",
    "require_code_reader",
    "require_member_codes_reader",
    "require_operator",
    "require_partner_directory_reader",
    "require_partner_manager",
    "require_eligibility_reader",
    "require_partner_reader",
    "require_reservation_reader",
    "require_reserver",
    "require_writing_partner",
    "is_reader_service",
]


def actor(principal: Principal) -> str:
    """How audits name who did something, e.g. `partner:<id>`, `staff:ops-1`, `service:redemptions`."""
    return f"{principal.kind.value}:{principal.subject}"


def is_reader_service(principal: Principal) -> bool:
    """A service that reads beyond the catalogue (see `READERS`)."""
    return is_service_in(principal, READERS)


def require_reserver(principal: Principal) -> None:
    """Reservations of codes and recharges, in any of their steps."""
    require_service_in(principal, RESERVERS, "reserve, issue, release or deliver benefits")


def is_partner_manager(principal: Principal, partner_id: uuid.UUID) -> bool:
    """The partner itself or an operator: may change the partner's things."""
    return principal.is_partner(partner_id) or principal.is_operator


def require_partner_manager(principal: Principal, partner_id: uuid.UUID) -> None:
    require_partner_or_operator(principal, partner_id)


def may_read_partner_private(principal: Principal, partner_id: uuid.UUID) -> bool:
    """Private partner data (contact, endpoints, keys' metadata, deliveries, budgets): the partner,
    staff (customer service reads) and alliance services."""
    return principal.is_partner(partner_id) or principal.is_staff or is_reader_service(principal)


def require_partner_reader(principal: Principal, partner_id: uuid.UUID) -> None:
    require_authenticated(principal)
    if not may_read_partner_private(principal, partner_id):
        raise Forbidden("a partner's own data is visible only to that partner, staff and alliance services")


def require_partner_directory_reader(principal: Principal) -> None:
    """The list of all partners: staff and alliance services (partners and members read partners one
    at a time, by reference)."""
    require_authenticated(principal)
    if not (principal.is_staff or is_reader_service(principal)):
        raise Forbidden("the partner directory is for alliance staff and services")


def calling_partner(principal: Principal) -> uuid.UUID | None:
    """The partner's own id when a partner calls, else None."""
    return uuid.UUID(principal.subject) if principal.kind is PrincipalKind.PARTNER else None


# --- codes, reservations, write-offs -------------------------------------------------------------


def may_see_benefit(principal: Principal, partner_id: uuid.UUID, status: str) -> bool:
    """Any signed-in caller sees an ACTIVE benefit (and its stock); other states only its partner,
    staff and alliance services."""
    if not principal.is_authenticated:
        return False
    return status == "ACTIVE" or principal.is_partner(partner_id) or principal.is_staff or is_reader_service(principal)


def require_benefit_reader(principal: Principal, partner_id: uuid.UUID, status: str) -> None:
    require_authenticated(principal)
    if not may_see_benefit(principal, partner_id, status):
        raise Forbidden("this benefit is not in the catalogue; only its partner and staff may see it")


def require_code_reader(principal: Principal, partner_id: uuid.UUID) -> None:
    """A pool's codes (always masked) and write-offs: the owning partner and staff."""
    require_authenticated(principal)
    if not (principal.is_partner(partner_id) or principal.is_staff):
        raise Forbidden("a benefit's codes are visible only to its partner and to staff")


def require_member_codes_reader(principal: Principal, member_id: uuid.UUID) -> bool:
    """A member's codes: the member (in clear; True) or staff (masked; False)."""
    require_authenticated(principal)
    if principal.is_member(member_id):
        return True
    if principal.is_staff:
        return False
    raise Forbidden("a member's codes are visible only to that member and to staff")


def require_reservation_reader(principal: Principal) -> None:
    """Reservations (codes masked): the alliance services that make them, and staff."""
    require_authenticated(principal)
    if not (is_reader_service(principal) or principal.is_staff):
        raise Forbidden("reservations are visible only to alliance services and staff")


def require_writing_partner(principal: Principal) -> uuid.UUID:
    """Write-offs are done by a partner at its own store, never on its behalf."""
    require_authenticated(principal)
    partner_id = calling_partner(principal)
    if partner_id is None:
        raise Forbidden("only a partner writes off its own codes")
    return partner_id


# --- catalogue and budgets ---------------------------------------------------------------------------


class CatalogueScope(enum.Enum):
    ALL = "all"  # staff and alliance services: every benefit, in any status
    OWN_AND_ACTIVE = "own_and_active"  # a partner: its own in any status, others' as members see them
    ACTIVE = "active"  # members: ACTIVE benefits of ACTIVE partners


def catalogue_scope(principal: Principal) -> CatalogueScope:
    """Which benefits the caller sees (signed-in callers only)."""
    require_authenticated(principal)
    if principal.is_staff or is_reader_service(principal):
        return CatalogueScope.ALL
    if principal.kind is PrincipalKind.PARTNER:
        return CatalogueScope.OWN_AND_ACTIVE
    return CatalogueScope.ACTIVE


def require_eligibility_reader(principal: Principal, member_id: uuid.UUID) -> None:
    """A member's eligible benefits: the member themself, staff and alliance services."""
    if is_reader_service(principal):
        return
    require_member_or_staff(principal, member_id)
