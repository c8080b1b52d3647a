"""Who is asking: principals, their guards, and the bearer tokens that carry them."""

from shared.auth.principals import (
    ANONYMOUS,
    CUSTOMER_SERVICE,
    OPERATOR,
    STAFF_ROLES,
    Principal,
    PrincipalKind,
    require_authenticated,
    require_member,
    require_member_or_staff,
    require_operator,
    require_partner,
    require_partner_or_operator,
    require_service,
    require_service_in,
    require_staff,
)
from shared.auth.tokens import (
    mint_token,
    principal_from_authorization_header,
    service_token,
    verify_token,
)

__all__ = [
    "ANONYMOUS",
    "CUSTOMER_SERVICE",
    "OPERATOR",
    "STAFF_ROLES",
    "Principal",
    "PrincipalKind",
    "mint_token",
    "principal_from_authorization_header",
    "require_authenticated",
    "require_member",
    "require_member_or_staff",
    "require_operator",
    "require_partner",
    "require_partner_or_operator",
    "require_service",
    "require_service_in",
    "require_staff",
    "service_token",
    "verify_token",
]
