"""Who may do what with points. Decided here, in the subgraph that owns the data, and called by the
service layer (every operation takes the caller's `Principal`).

- members read only their own points (and alone subscribe to them: `require_own_feed`); staff (operators, customer service) and the services in
  `MEMBER_READERS` read any member's;
- partners read only their own partner figures, statements and purchases, and record purchases and
  returns only as themselves; points itself may record for any partner;
- holds, captures, releases and refunds: only the services in `SPENDERS` (reading a hold: operators
  too); a member's points profile (birthday month): `PROFILE_WRITERS` and operators;
- adjustments, programme configuration, checks, jobs: operators only;
- the service itself (`SYSTEM`: its jobs, event handlers and demo seed) does its own upkeep.
"""

from __future__ import annotations

import uuid

from shared.auth.principals import (
    Principal,
    is_service_in,
    PrincipalKind,
    require_authenticated,
    require_operator,
    require_partner_or_operator,
    require_service_in,
)
from shared.errors import Forbidden

__all__ = [
    "JOB_ACTOR",
    "SYSTEM",
    "actor",
    "recording_partner",
    "require_member_reader",
    "require_own_feed",
    "require_operator",
    "require_operator_or_system",
    "require_partner_reader",
    "require_purchase_reader",
    "require_spender",
    "require_spender_or_operator",
    "require_profile_writer",
    "require_system",
]

# Points itself, as its jobs and event handlers act.
SYSTEM = Principal(PrincipalKind.SERVICE, "points")
# How the ledger names the scheduled jobs, whoever started the run.
JOB_ACTOR = "job"

# Which services may call what: each list names the services that call it today.
SPENDERS = frozenset({"redemptions"})  # the redemption saga holds, captures, releases, refunds
MEMBER_READERS = frozenset({"redemptions"})  # balances and purchases of any member
PARTNER_READERS = frozenset({"redemptions"})  # partner figures for settlement
PROFILE_WRITERS = frozenset({"members"})  # the birthday month, owned by members
PURCHASE_RECORDERS = frozenset({"points"})  # for any partner: points itself; partners record their own


def actor(principal: Principal) -> str:
    """How the ledger names who did something, e.g. `service:redemptions`, `staff:ops-1`."""
    return f"{principal.kind.value}:{principal.subject}"


def require_member_reader(principal: Principal, member_id: uuid.UUID) -> None:
    require_authenticated(principal)
    if not (principal.is_member(member_id) or principal.is_staff or is_service_in(principal, MEMBER_READERS)):
        raise Forbidden("a member's points are visible only to that member, staff and the services that need them")


def require_own_feed(principal: Principal) -> uuid.UUID:
    """Live feeds (subscriptions) are a member's own: the signed-in member's id. Staff, partners and
    services read a member's points by query instead."""
    require_authenticated(principal)
    if principal.kind is not PrincipalKind.MEMBER:
        raise Forbidden("only a signed-in member may subscribe, and only to their own points")
    return uuid.UUID(principal.subject)


def require_partner_reader(principal: Principal, partner_id: uuid.UUID) -> None:
    """The partner itself, an operator, or an alliance service (settlement runs)."""
    require_authenticated(principal)
    if is_service_in(principal, PARTNER_READERS):
        return
    require_partner_or_operator(principal, partner_id)


def require_spender(principal: Principal) -> None:
    """Holds, captures, releases and refunds."""
    require_service_in(principal, SPENDERS, "hold, capture, release or refund points")


def require_spender_or_operator(principal: Principal) -> None:
    """Reading a hold."""
    require_authenticated(principal)
    if not (is_service_in(principal, SPENDERS) or principal.is_operator):
        raise Forbidden(f"only {', '.join(sorted(SPENDERS))} or an operator may read holds")


def require_profile_writer(principal: Principal) -> None:
    require_authenticated(principal)
    if not (is_service_in(principal, PROFILE_WRITERS) or principal.is_operator):
        raise Forbidden(f"a member's points profile is set by {', '.join(sorted(PROFILE_WRITERS))} or an operator")


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
    if is_service_in(principal, PURCHASE_RECORDERS):
        return None
    raise Forbidden("only the earning partner may record its purchases and returns")


def require_purchase_reader(principal: Principal, *, partner_id: uuid.UUID | None, member_id: uuid.UUID | None) -> None:
    """Partners list their own purchases, members theirs; operators and services any."""
    require_authenticated(principal)
    if principal.is_operator or is_service_in(principal, MEMBER_READERS):
        return
    if principal.kind is PrincipalKind.PARTNER and partner_id is not None and principal.is_partner(partner_id):
        return
    if principal.kind is PrincipalKind.MEMBER and member_id is not None and principal.is_member(member_id):
        return
    raise Forbidden("partners see their own purchases and members theirs")
