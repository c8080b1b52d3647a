"""A member's status as points knows it (from members' MemberStatusChanged and MemberErased
events): holds need an ACTIVE member; an ERASED member's account is closed (it earns nothing, and
the breakage job books what was left of its points to their issuers' breakage)."""

from __future__ import annotations

from services.points.ledger.rows import AccountRow
from shared.errors import DomainError

ACTIVE, SUSPENDED, ERASED = "ACTIVE", "SUSPENDED", "ERASED"
STATUSES = (ACTIVE, SUSPENDED, ERASED)


class MemberNotActive(DomainError):
    """Points may not be held (spent) for a member who is suspended or erased."""

    code = "MEMBER_NOT_ACTIVE"


class MemberClosed(DomainError):
    """The member was erased: their points account is closed."""

    code = "MEMBER_CLOSED"


def closed(state: AccountRow) -> MemberClosed | None:
    if state.status == ERASED:
        return MemberClosed("this member's points account is closed (the member was erased)", memberId=str(state.member_id))
    return None


def require_active_member(state: AccountRow) -> None:
    if state.status != ACTIVE:
        raise MemberNotActive(
            f"this member is {state.status.lower()}: points cannot be held", memberId=str(state.member_id), status=state.status
        )
