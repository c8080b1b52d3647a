"""No service calls redemptions (it calls the others and hears back through events), so every
service, known or not, is refused with FORBIDDEN; members and staff keep their rights."""

from __future__ import annotations

import uuid

import pytest

from services.redemptions import access
from shared.auth.principals import Principal, PrincipalKind
from shared.errors import Forbidden

KNOWN = ("gateway", "members", "points", "benefits", "redemptions")
CALLERS = (*KNOWN, "evil")
OPERATOR = Principal(PrincipalKind.STAFF, "ops", frozenset({"operator"}))


def test_no_service_is_on_the_lists() -> None:
    assert access.REDEEMERS == frozenset() and access.READERS == frozenset()


@pytest.mark.parametrize("caller", CALLERS)
def test_services_neither_redeem_nor_read_redemptions(caller: str) -> None:
    service = Principal(PrincipalKind.SERVICE, caller)
    member, partner = uuid.uuid4(), uuid.uuid4()
    with pytest.raises(Forbidden):
        access.redeeming_member(service, member)
    with pytest.raises(Forbidden):
        access.require_reader(service, member, partner)
    with pytest.raises(Forbidden):
        access.require_refunder(service, member)


def test_members_and_staff_keep_their_rights() -> None:
    member = uuid.uuid4()
    assert access.redeeming_member(Principal(PrincipalKind.MEMBER, str(member)), None) == member
    access.require_reader(OPERATOR, member, uuid.uuid4())
    assert access.require_refunder(OPERATOR, member) is True
