"""Who may do what with redemptions. Decided here, in the subgraph that owns the data, and called by
the service layer.

| what                                  | operator | customer service | partner           | member     | service |
|---------------------------------------|----------|------------------|-------------------|------------|---------|
| redeem                                | no       | no               | no                | for self   | for any |
| read a redemption                     | yes      | yes              | of own benefits * | their own  | yes     |
| the delivered code in clear           | no       | no               | no                | their own  | no      |
| list redemptions                      | all      | all              | of own benefits * | their own  | all     |
| refund                                | any time | no               | no                | in window  | no      |
| rules, abuse signals, blocks, retry   | yes      | read             | no                | no         | no      |
| figures                               | yes      | yes              | no                | no         | no      |
| subscribe to redemption updates       | no       | no               | no                | their own  | no      |

* without the member (partners get no member data).

"service" means a service in `REDEEMERS` / `READERS`; both lists are empty because no service calls
redemptions today (it calls the others and talks back only through events), so every service
token is refused here until a caller is named.
"""

from __future__ import annotations

import uuid

from shared.auth.principals import Principal, PrincipalKind, is_service_in, require_authenticated, require_operator
from shared.errors import Forbidden, InvalidInput

SERVICE_NAME = "redemptions"
SYSTEM = Principal(PrincipalKind.SERVICE, SERVICE_NAME)

# Which services may call what (see the table).
REDEEMERS: frozenset[str] = frozenset()  # redeem on a member's behalf
READERS: frozenset[str] = frozenset()  # read and list any redemption

__all__ = ["SERVICE_NAME", "SYSTEM", "actor", "redeeming_member", "require_operator", "require_reader", "require_staff",
           "sees_member", "sees_code", "require_refunder", "require_own_feed"]


def actor(principal: Principal) -> str:
    return f"{principal.kind.value}:{principal.subject}"


def redeeming_member(principal: Principal, member_id: uuid.UUID | None) -> uuid.UUID:
    """The member a redemption is for: a member redeems for themself; a service names the member."""
    require_authenticated(principal)
    if principal.kind is PrincipalKind.MEMBER:
        own = uuid.UUID(str(principal.subject))
        if member_id is not None and member_id != own:
            raise Forbidden("a member redeems only for themself")
        return own
    if is_service_in(principal, REDEEMERS):
        if member_id is None:
            raise InvalidInput("a service redeeming on a member's behalf names the member", field="memberId")
        return member_id
    raise Forbidden("only members redeem, for themselves")


def require_reader(principal: Principal, member_id: uuid.UUID, partner_id: uuid.UUID) -> None:
    require_authenticated(principal)
    if principal.is_member(member_id) or principal.is_staff or is_service_in(principal, READERS):
        return
    if principal.kind is PrincipalKind.PARTNER and principal.subject == str(partner_id):
        return
    raise Forbidden("a redemption is visible to its member, the benefit's partner, staff and alliance services")


def require_own_feed(principal: Principal) -> uuid.UUID:
    """Live feeds (subscriptions) are a member's own: the signed-in member's id."""
    require_authenticated(principal)
    if principal.kind is not PrincipalKind.MEMBER:
        raise Forbidden("only a signed-in member may subscribe, and only to their own redemptions")
    return uuid.UUID(str(principal.subject))


def require_staff(principal: Principal) -> None:
    require_authenticated(principal)
    if not principal.is_staff:
        raise Forbidden("only staff may do this")


def sees_member(principal: Principal) -> bool:
    return principal.kind is not PrincipalKind.PARTNER


def sees_code(principal: Principal, member_id: uuid.UUID) -> bool:
    return principal.is_member(member_id)


def require_refunder(principal: Principal, member_id: uuid.UUID) -> bool:
    """True: an operator (no window applies); False: the member themself (within the window)."""
    require_authenticated(principal)
    if principal.is_operator:
        return True
    if principal.is_member(member_id):
        return False
    raise Forbidden("a redemption is refunded by its member (within the benefit's window) or an operator")
