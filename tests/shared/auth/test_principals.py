import uuid

import pytest

from shared.auth.principals import (
    ANONYMOUS,
    Principal,
    PrincipalKind,
    require_authenticated,
    require_member,
    require_member_or_staff,
    require_operator,
    require_partner,
    require_partner_or_operator,
    require_service,
    require_staff,
)
from shared.errors import Forbidden, Unauthenticated

MEMBER_ID = uuid.UUID("01a20263-a80f-7329-8a56-8c3bbebfbfda")
OTHER_MEMBER_ID = uuid.UUID("01a20263-a80f-7329-8a56-8c3bbebfbfdb")
PARTNER_ID = uuid.UUID("01a20263-a80f-7000-8000-000000000001")

member = Principal(PrincipalKind.MEMBER, str(MEMBER_ID))
partner = Principal(PrincipalKind.PARTNER, str(PARTNER_ID))
operator = Principal(PrincipalKind.STAFF, "alice", frozenset({"operator"}))
customer_service = Principal(PrincipalKind.STAFF, "bob", frozenset({"customer_service"}))
service = Principal(PrincipalKind.SERVICE, "points")


def test_anonymous_constant() -> None:
    assert ANONYMOUS.kind is PrincipalKind.ANONYMOUS
    assert ANONYMOUS.subject is None and ANONYMOUS.roles == frozenset()
    assert ANONYMOUS.is_anonymous and not ANONYMOUS.is_authenticated


def test_principal_is_frozen() -> None:
    with pytest.raises(AttributeError):
        member.subject = str(OTHER_MEMBER_ID)  # type: ignore[misc]


def test_kind_given_as_string_and_roles_as_list_are_normalised() -> None:
    p = Principal("staff", "alice", ["operator"])  # type: ignore[arg-type]
    assert p.kind is PrincipalKind.STAFF
    assert p.roles == frozenset({"operator"})
    assert p == operator and hash(p) == hash(operator)


def test_member_and_partner_subjects_are_stored_in_canonical_uuid_form() -> None:
    p = Principal(PrincipalKind.MEMBER, str(MEMBER_ID).upper())
    assert p.subject == str(MEMBER_ID)
    assert p.is_member(MEMBER_ID)


@pytest.mark.parametrize(
    ("kind", "subject", "roles", "message"),
    [
        (PrincipalKind.ANONYMOUS, "someone", (), "anonymous"),
        (PrincipalKind.ANONYMOUS, None, ("operator",), "anonymous"),
        (PrincipalKind.MEMBER, None, (), "needs a subject"),
        (PrincipalKind.SERVICE, "  ", (), "needs a subject"),
        (PrincipalKind.MEMBER, "not-a-uuid", (), "must be a UUID"),
        (PrincipalKind.PARTNER, "42", (), "must be a UUID"),
        (PrincipalKind.STAFF, "alice", (), "at least one role"),
        (PrincipalKind.STAFF, "alice", ("operator", "root"), "unknown staff role"),
        (PrincipalKind.MEMBER, str(MEMBER_ID), ("operator",), "has no roles"),
        (PrincipalKind.SERVICE, "points", ("operator",), "has no roles"),
    ],
)
def test_incoherent_principals_cannot_be_built(kind, subject, roles, message) -> None:
    with pytest.raises(ValueError, match=message):
        Principal(kind, subject, frozenset(roles))


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError):
        Principal("superuser", "x")  # type: ignore[arg-type]


def test_is_member_matches_only_that_member() -> None:
    assert member.is_member(MEMBER_ID)
    assert member.is_member(str(MEMBER_ID))
    assert member.is_member(str(MEMBER_ID).upper())
    assert not member.is_member(OTHER_MEMBER_ID)
    assert not member.is_member("garbage")
    # A partner whose id happens to equal the member id is still not that member.
    assert not Principal(PrincipalKind.PARTNER, str(MEMBER_ID)).is_member(MEMBER_ID)
    assert not operator.is_member(MEMBER_ID)


def test_is_partner_matches_only_that_partner() -> None:
    assert partner.is_partner(PARTNER_ID)
    assert partner.is_partner(str(PARTNER_ID))
    assert not partner.is_partner(MEMBER_ID)
    assert not Principal(PrincipalKind.MEMBER, str(PARTNER_ID)).is_partner(PARTNER_ID)


def test_role_checks() -> None:
    assert operator.is_staff and operator.is_operator and not operator.is_customer_service
    assert customer_service.is_staff and customer_service.is_customer_service
    assert not customer_service.is_operator
    both = Principal(PrincipalKind.STAFF, "carol", frozenset({"operator", "customer_service"}))
    assert both.is_operator and both.is_customer_service
    assert service.is_service and not service.is_staff
    for p in (ANONYMOUS, member, partner, service):
        assert not p.is_staff and not p.is_operator and not p.is_customer_service
    for p in (ANONYMOUS, member, partner, operator):
        assert not p.is_service


ALLOW = None
# Expected outcome of each guard for each principal: None = allowed, else the error type.
MATRIX = {
    "authenticated": (lambda p: require_authenticated(p),
                      {"anonymous": Unauthenticated, "member": ALLOW, "other_member": ALLOW, "partner": ALLOW,
                       "operator": ALLOW, "customer_service": ALLOW, "service": ALLOW}),
    "member": (lambda p: require_member(p),
               {"anonymous": Unauthenticated, "member": ALLOW, "other_member": ALLOW, "partner": Forbidden,
                "operator": Forbidden, "customer_service": Forbidden, "service": Forbidden}),
    "partner": (lambda p: require_partner(p),
                {"anonymous": Unauthenticated, "member": Forbidden, "other_member": Forbidden, "partner": ALLOW,
                 "operator": Forbidden, "customer_service": Forbidden, "service": Forbidden}),
    "staff": (lambda p: require_staff(p),
              {"anonymous": Unauthenticated, "member": Forbidden, "other_member": Forbidden, "partner": Forbidden,
               "operator": ALLOW, "customer_service": ALLOW, "service": Forbidden}),
    "operator": (lambda p: require_operator(p),
                 {"anonymous": Unauthenticated, "member": Forbidden, "other_member": Forbidden, "partner": Forbidden,
                  "operator": ALLOW, "customer_service": Forbidden, "service": Forbidden}),
    "service": (lambda p: require_service(p),
                {"anonymous": Unauthenticated, "member": Forbidden, "other_member": Forbidden, "partner": Forbidden,
                 "operator": Forbidden, "customer_service": Forbidden, "service": ALLOW}),
    "member_or_staff": (lambda p: require_member_or_staff(p, MEMBER_ID),
                        {"anonymous": Unauthenticated, "member": ALLOW, "other_member": Forbidden,
                         "partner": Forbidden, "operator": ALLOW, "customer_service": ALLOW, "service": Forbidden}),
    "partner_or_operator": (lambda p: require_partner_or_operator(p, PARTNER_ID),
                            {"anonymous": Unauthenticated, "member": Forbidden, "other_member": Forbidden,
                             "partner": ALLOW, "operator": ALLOW, "customer_service": Forbidden,
                             "service": Forbidden}),
}
PRINCIPALS = {
    "anonymous": ANONYMOUS,
    "member": member,
    "other_member": Principal(PrincipalKind.MEMBER, str(OTHER_MEMBER_ID)),
    "partner": partner,
    "operator": operator,
    "customer_service": customer_service,
    "service": service,
}


@pytest.mark.parametrize(
    ("guard", "who"), [(g, w) for g in MATRIX for w in PRINCIPALS], ids=lambda v: v
)
def test_guard_matrix(guard: str, who: str) -> None:
    check, expected = MATRIX[guard]
    outcome = expected[who]
    if outcome is ALLOW:
        check(PRINCIPALS[who])
    else:
        with pytest.raises(outcome) as info:
            check(PRINCIPALS[who])
        assert info.value.code == ("UNAUTHENTICATED" if outcome is Unauthenticated else "FORBIDDEN")


def test_require_member_and_partner_return_the_callers_id() -> None:
    assert require_member(member) == MEMBER_ID
    assert require_partner(partner) == PARTNER_ID


# --- require_service_in ---------------------------------------------------------------------------


def test_require_service_in_admits_only_the_named_services() -> None:
    from shared.auth.principals import is_service_in, require_service_in

    redemptions = Principal(PrincipalKind.SERVICE, "redemptions")
    require_service_in(redemptions, {"redemptions"})
    assert is_service_in(redemptions, {"redemptions", "points"})
    for other in (Principal(PrincipalKind.SERVICE, "points"), Principal(PrincipalKind.STAFF, "ops", frozenset({"operator"}))):
        with pytest.raises(Forbidden, match="only redemptions may hold points"):
            require_service_in(other, {"redemptions"}, "hold points")
    with pytest.raises(Unauthenticated):
        require_service_in(ANONYMOUS, {"redemptions"})
    with pytest.raises(Forbidden, match="only no service may"):
        require_service_in(redemptions, frozenset())
