"""Who may do what with points. Decided here, in the subgraph that owns the data, and called by the
service layer (every operation takes the caller's `Principal`).

- members read only their own points; staff (operators, customer service) and alliance services
  read any member's;
- partners read only their own partner figures, statements and purchases, and record purchases and
  returns only as themselves; services may record for any partner;
- holds, captures, releases and refunds: alliance services only (reading a hold: operators too);
- adjustments, programme configuration, checks, jobs: operators only;
- the service itself (`SYSTEM`: its jobs, event handlers and demo seed) does its own upkeep.
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
    "JOB_ACTOR",
    "SYSTEM",
    "actor",
    "recording_partner",
    "require_member_reader",
    "require_operator",
    "require_operator_or_system",
    "require_partner_reader",
    "require_purchase_reader",
    "require_service",
    "require_service_or_operator",
    "require_system",
]

# Points itself, as its jobs and event handlers act.
SYSTEM = Principal(PrincipalKind.SERVICE, "points")
# How the ledger names the scheduled jobs, whoever started the run.
JOB_ACTOR = "job"


def actor(principal: Principal) -> str:
    """How the ledger names who did something, e.g. `service:redemptions`, `staff:ops-1`."""
    return f"{principal.kind.value}:{principal.subject}"


def require_member_reader(principal: Principal, member_id: uuid.UUID) -> None:
    require_authenticated(principal)
    if not (principal.is_member(member_id) or principal.is_staff or principal.is_service):
        raise Forbidden("a member's points are visible only to that member, staff and alliance services")


def require_partner_reader(principal: Principal, partner_id: uuid.UUID) -> None:
    """The partner itself, an operator, or an alliance service (settlement runs)."""
    require_authenticated(principal)
    if principal.is_service:
        return
    require_partner_or_operator(principal, partner_id)


def require_service_or_operator(principal: Principal) -> None:
    require_authenticated(principal)
    if not (principal.is_service or principal.is_operator):
        raise Forbidden("only an alliance service or an operator may do this")


def require_system(principal: Principal) -> None:
    """Points itself (its jobs and event handlers)."""
    if principal != SYSTEM:
        raise Forbidden("only the points service itself may do this")


def require_operator_or_system(principal: Principal) -> None:
    """Upkeep an operator may also start (running a job now, registering programmes)."""
    if principal != SYSTEM:
        require_operator(principal)


def recording_partner(principal: Principal) -> uuid.UUID | None:
    """Who may record purchases and returns: a partner (only its own: the id returned) or a
    service (any partner: None)."""
    require_authenticated(principal)
    if principal.kind is PrincipalKind.PARTNER:
        return uuid.UUID(principal.subject)
    if principal.is_service:
        return None
    raise Forbidden("only the earning partner or an alliance service may record purchases and returns")


def require_purchase_reader(principal: Principal, *, partner_id: uuid.UUID | None, member_id: uuid.UUID | None) -> None:
    """Partners list their own purchases, members theirs; operators and services any."""
    require_authenticated(principal)
    if principal.is_operator or principal.is_service:
        return
    if principal.kind is PrincipalKind.PARTNER and partner_id is not None and principal.is_partner(partner_id):
        return
    if principal.kind is PrincipalKind.MEMBER and member_id is not None and principal.is_member(member_id):
        return
    raise Forbidden("partners see their own purchases and members theirs")
