"""Who may do what with members: decided here and nowhere else (service layers call these).

What each viewer sees of a member:

| field                                  | self, operator | customer service | service*| partner, other member |
|----------------------------------------|----------------|------------------|---------|-----------------------|
| id, status, tier                       | yes            | yes              | yes     | yes                   |
| displayName, birthday                  | yes            | yes              | null    | null                  |
| phone, email                           | yes            | masked           | null    | null                  |
| birthdayMonth                          | yes            | yes              | yes     | null                  |
| joinedAt, lastActivityAt, lifecycle,   | yes            | yes              | yes     | null                  |
| preferences, tierProgress, tierHistory |                |                  |         |                       |

* the services in `READERS`; any other service sees what a partner sees.
Whole-member reads (`member(id)`) by a partner, another member or another service are FORBIDDEN; references to a
member from other subgraphs (`_entities`) resolve for any signed-in caller with the fields above.
Services get the birthday month (birthday multipliers) but not the birthday itself.
An erased member reads as erased to everyone: status ERASED, no personal data at all, and a
display name of "[erased]" for those who would otherwise see the name.

Who may act:
- registering members: staff and members itself (the demo seed), no other service;
- editing a profile, preferences, erasure: the member themself and operators (a suspended member
  only through an operator; the birthday cooldown binds members, not operators);
- the staff list: staff; suspension and reactivation: operators;
- growth: points (spend; through `recordGrowth` or its events) and members itself (its inbox's
  handlers); the tier policy and the operator's review: operators; the scheduled
  review: members itself (`SYSTEM`).
"""

from __future__ import annotations

import enum
import uuid

from shared.auth.principals import (
    Principal,
    PrincipalKind,
    require_authenticated,
    require_member,
    is_service_in,
    require_operator,
    require_service_in,
    require_staff,
)
from shared.errors import Forbidden

SERVICE_NAME = "members"
# Members acting on its own behalf: the scheduled tier review and the event inbox's handlers.
SYSTEM = Principal(PrincipalKind.SERVICE, SERVICE_NAME)

# Which services may call what (each list names the services that call it today).
READERS = frozenset({"points", "redemptions"})  # member lookups: points' directory, the saga's checks
REGISTRARS = frozenset({SERVICE_NAME})  # the demo seed; sign-ups come through staff tools
GROWTH_SOURCES = frozenset({"points", SERVICE_NAME})  # points' spend; the inbox's handlers act as members


class Access(enum.Enum):
    FULL = "full"  # the member themself, operators
    MASKED = "masked"  # customer service
    SERVICE = "service"  # alliance services
    NONE = "none"  # partners, other members


def access_for(viewer: Principal, member_id: uuid.UUID) -> Access:
    if viewer.is_member(member_id) or viewer.is_operator:
        return Access.FULL
    if viewer.is_customer_service:
        return Access.MASKED
    if is_service_in(viewer, READERS):
        return Access.SERVICE
    return Access.NONE


def shows_profile(access: Access, erased: bool) -> bool:
    """Whether tier progress, history, lifecycle and such may be shown."""
    return access is not Access.NONE and not erased


def actor_label(actor: Principal) -> str:
    """How an actor is named in audit columns (`staff:ops-1`, `service:points`)."""
    return f"{actor.kind.value}:{actor.subject}"


# --- reading -----------------------------------------------------------------------------------


def require_signed_in(actor: Principal) -> None:
    """References from other subgraphs and the tier policy: any signed-in caller."""
    require_authenticated(actor)


def require_reader(actor: Principal, member_id: uuid.UUID) -> None:
    """A whole-member read: the member themself, staff and services. Decided before we look, so
    a refusal says nothing about whether the id exists."""
    require_authenticated(actor)
    if access_for(actor, member_id) is Access.NONE:
        raise Forbidden("a member's profile is visible only to that member, alliance staff and services")


def own_member_id(actor: Principal) -> uuid.UUID:
    """The signed-in member (`me`, and mutations that name no member)."""
    return require_member(actor)


def require_lister(actor: Principal) -> None:
    require_staff(actor)


def sees_policy_audit(actor: Principal) -> bool:
    """Who made a policy version and why: operators only."""
    return actor.is_operator


# --- changing ----------------------------------------------------------------------------------


def require_registrar(actor: Principal) -> None:
    require_authenticated(actor)
    if not (is_service_in(actor, REGISTRARS) or actor.is_staff):
        raise Forbidden("members are registered by alliance staff")


def require_editor(actor: Principal, member_id: uuid.UUID) -> None:
    """The member themself or an operator; customer service reads masked data and edits nothing."""
    require_authenticated(actor)
    if access_for(actor, member_id) is not Access.FULL:
        raise Forbidden("a member's profile can be changed only by that member or an operator")


def may_edit_when_suspended(actor: Principal) -> bool:
    return actor.is_operator


def bound_by_birthday_cooldown(actor: Principal) -> bool:
    return not actor.is_operator


def require_status_changer(actor: Principal) -> None:
    require_operator(actor)


def require_growth_source(actor: Principal) -> None:
    require_service_in(actor, GROWTH_SOURCES, "record growth")


def require_tier_admin(actor: Principal) -> None:
    """Changing or auditing the tier policy, running the review by hand."""
    require_operator(actor)


def require_system(actor: Principal) -> None:
    """Work only members itself does (the scheduled review, at any instant)."""
    require_authenticated(actor)
    if actor != SYSTEM:
        raise Forbidden("only the members service itself may do this")
