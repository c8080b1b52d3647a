"""Principals (who is asking) and the guards services use to say who may do what.

Authorization is decided in the subgraph that owns the data; these guards keep the common checks
one line long and raise the typed errors clients see: `Unauthenticated` when nobody is signed in,
`Forbidden` when someone is but may not.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Collection
from dataclasses import dataclass, field

from shared.errors import Forbidden, Unauthenticated

OPERATOR = "operator"
CUSTOMER_SERVICE = "customer_service"
STAFF_ROLES: frozenset[str] = frozenset({OPERATOR, CUSTOMER_SERVICE})


class PrincipalKind(str, enum.Enum):
    ANONYMOUS = "anonymous"
    MEMBER = "member"
    PARTNER = "partner"
    STAFF = "staff"
    SERVICE = "service"


# Members and partners are entities keyed by UUID; staff users and services are named by strings.
_UUID_SUBJECTS = frozenset({PrincipalKind.MEMBER, PrincipalKind.PARTNER})


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller, or `ANONYMOUS`.

    `subject` is the member id, partner id, staff user id or service name. Member and partner
    subjects are stored in canonical UUID form so comparisons do not depend on how they were written.
    Invalid combinations raise `ValueError` at construction, so a `Principal` is always coherent.
    """

    kind: PrincipalKind
    subject: str | None = None
    roles: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        kind = PrincipalKind(self.kind)
        roles = frozenset(self.roles)
        subject = self.subject
        if kind is PrincipalKind.ANONYMOUS:
            if subject is not None or roles:
                raise ValueError("an anonymous principal has no subject and no roles")
        else:
            if not isinstance(subject, str) or not subject.strip():
                raise ValueError(f"a {kind.value} principal needs a subject")
            if kind in _UUID_SUBJECTS:
                try:
                    subject = str(uuid.UUID(subject))
                except ValueError:
                    raise ValueError(f"a {kind.value} subject must be a UUID, got {subject!r}") from None
        if kind is PrincipalKind.STAFF:
            if not roles:
                raise ValueError("a staff principal needs at least one role")
            unknown = roles - STAFF_ROLES
            if unknown:
                raise ValueError(f"unknown staff role(s): {', '.join(sorted(unknown))}")
        elif roles:
            # Roles are staff roles; anything else carrying them is a forged or confused token.
            raise ValueError(f"a {kind.value} principal has no roles")
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "subject", subject)
        object.__setattr__(self, "roles", roles)

    # Checks that take no argument are properties: writing `p.is_operator()` then fails loudly,
    # where a method written without its call (`if p.is_operator:`) would always be true.

    @property
    def is_anonymous(self) -> bool:
        return self.kind is PrincipalKind.ANONYMOUS

    @property
    def is_authenticated(self) -> bool:
        return self.kind is not PrincipalKind.ANONYMOUS

    @property
    def is_staff(self) -> bool:
        return self.kind is PrincipalKind.STAFF

    @property
    def is_operator(self) -> bool:
        return self.kind is PrincipalKind.STAFF and OPERATOR in self.roles

    @property
    def is_customer_service(self) -> bool:
        return self.kind is PrincipalKind.STAFF and CUSTOMER_SERVICE in self.roles

    @property
    def is_service(self) -> bool:
        return self.kind is PrincipalKind.SERVICE

    def is_member(self, member_id: uuid.UUID | str) -> bool:
        """True when this is the member `member_id` themself."""
        return self.kind is PrincipalKind.MEMBER and self.subject == _canonical(member_id)

    def is_partner(self, partner_id: uuid.UUID | str) -> bool:
        """True when this is the partner `partner_id` itself."""
        return self.kind is PrincipalKind.PARTNER and self.subject == _canonical(partner_id)


def _canonical(value: uuid.UUID | str) -> str | None:
    try:
        return str(value if isinstance(value, uuid.UUID) else uuid.UUID(value))
    except (ValueError, TypeError, AttributeError):
        return None  # not a UUID: matches no member or partner


ANONYMOUS = Principal(PrincipalKind.ANONYMOUS)


# Guards. Each returns quietly when allowed; anonymous callers always get `Unauthenticated` first,
# so a client learns to sign in before it learns what it may not do.


def require_authenticated(p: Principal) -> None:
    if not p.is_authenticated:
        raise Unauthenticated("authentication required: send an Authorization: Bearer <token> header")


def require_member(p: Principal) -> uuid.UUID:
    """The calling member's id; for `me`-style fields."""
    require_authenticated(p)
    if p.kind is not PrincipalKind.MEMBER:
        raise Forbidden("only a member may do this")
    return uuid.UUID(p.subject)


def require_partner(p: Principal) -> uuid.UUID:
    """The calling partner's id."""
    require_authenticated(p)
    if p.kind is not PrincipalKind.PARTNER:
        raise Forbidden("only a partner may do this")
    return uuid.UUID(p.subject)


def require_staff(p: Principal) -> None:
    require_authenticated(p)
    if not p.is_staff:
        raise Forbidden("only alliance staff may do this")


def require_operator(p: Principal) -> None:
    require_authenticated(p)
    if not p.is_operator:
        raise Forbidden("only an operator may do this")


def require_service(p: Principal) -> None:
    require_authenticated(p)
    if not p.is_service:
        raise Forbidden("only an alliance service may do this")


def is_service_in(p: Principal, services: Collection[str]) -> bool:
    """True when `p` is one of the named alliance services."""
    return p.kind is PrincipalKind.SERVICE and p.subject in services


def require_service_in(p: Principal, services: Collection[str], what: str = "do this") -> None:
    """Only the named services: each service operation lists who may call it, so a service token
    (or a stolen one) opens only what its service needs."""
    require_authenticated(p)
    if not is_service_in(p, services):
        allowed = ", ".join(sorted(services)) or "no service"
        raise Forbidden(f"only {allowed} may {what}")


def require_member_or_staff(p: Principal, member_id: uuid.UUID | str) -> None:
    """The member themself or any staff (customer service is expected to see masked data)."""
    require_authenticated(p)
    if not (p.is_member(member_id) or p.is_staff):
        raise Forbidden("a member's data is visible only to that member and to staff")


def require_partner_or_operator(p: Principal, partner_id: uuid.UUID | str) -> None:
    """The partner itself or an operator."""
    require_authenticated(p)
    if not (p.is_partner(partner_id) or p.is_operator):
        raise Forbidden("a partner's data is visible only to that partner and to operators")
