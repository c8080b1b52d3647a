"""Benefits as the saga uses it: read a benefit, reserve it (code or stock, and budget) for the
redemption, issue it to the member or recharge the member's platform account, release, void or
revoke it. Reservations are keyed by the redemption, so every call is idempotent."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from services.redemptions.peers.calls import call
from services.redemptions.peers.members import MemberFacts

_BENEFIT = """query RedeemedBenefit($id: ID!) {
  benefit(id: $id) { id title kind delivery status pointsPrice refundWindowDays partner { id } }
}"""
_RESERVE = """mutation Reserve($benefitId: ID!, $memberId: ID!, $key: String!, $ttl: Int, $member: ReservingMemberInput) {
  reserveBenefit(benefitId: $benefitId, memberId: $memberId, key: $key, ttlSeconds: $ttl, member: $member) {
    state settlementMinor currency
  }
}"""
_ISSUE = """mutation Issue($key: String!, $ref: String) {
  issueReservation(key: $key, deliveryReference: $ref) { code validUntil reservation { state } }
}"""
_RELEASE = """mutation Release($key: String!) { releaseReservation(key: $key) { state } }"""
_VOID = """mutation Void($key: String!) { voidReservation(key: $key) { state } }"""
_DELIVER = """mutation Deliver($key: String!, $account: String!) {
  deliverRecharge(key: $key, account: $account) { state deliveryReference }
}"""
_REVOKE = """mutation Revoke($key: String!) { revokeRecharge(key: $key) { state } }"""


@dataclass(frozen=True, slots=True)
class BenefitFacts:
    id: uuid.UUID
    partner_id: uuid.UUID
    title: str
    kind: str
    delivery: str
    status: str
    points_price: int
    refund_window_days: int | None


@dataclass(frozen=True, slots=True)
class Reserved:
    settlement_minor: int
    currency: str


@dataclass(frozen=True, slots=True)
class Issued:
    code: str | None
    valid_until: datetime | None


@dataclass(frozen=True, slots=True)
class Recharged:
    reference: str | None


async def benefit(benefit_id: uuid.UUID) -> BenefitFacts:
    """Raises Refused(NOT_FOUND) for a benefit the redemptions service cannot see."""
    found = (await call("benefits", _BENEFIT, {"id": str(benefit_id)}))["benefit"]
    return BenefitFacts(
        id=uuid.UUID(found["id"]), partner_id=uuid.UUID(found["partner"]["id"]), title=found["title"],
        kind=found["kind"], delivery=found["delivery"], status=found["status"], points_price=int(found["pointsPrice"]),
        refund_window_days=found.get("refundWindowDays"),
    )


async def reserve(benefit_id: uuid.UUID, member: MemberFacts, *, key: str, ttl_seconds: int) -> Reserved:
    """Every eligibility rule applies in benefits (tier, birthday perk, per-member limits, stock, budget)."""
    data = await call("benefits", _RESERVE, {
        "benefitId": str(benefit_id), "memberId": str(member.id), "key": key, "ttl": ttl_seconds,
        "member": {"tier": member.tier, "status": member.status, "birthdayMonth": member.birthday_month},
    })
    found = data["reserveBenefit"]
    return Reserved(int(found["settlementMinor"]), str(found["currency"]))


async def issue(key: str, reference: str) -> Issued:
    found = (await call("benefits", _ISSUE, {"key": key, "ref": reference}))["issueReservation"]
    valid = found.get("validUntil")
    return Issued(found.get("code"), datetime.fromisoformat(valid) if valid else None)


async def deliver_recharge(key: str, account: str) -> Recharged:
    found = (await call("benefits", _DELIVER, {"key": key, "account": account}, slow=True))["deliverRecharge"]
    return Recharged(found.get("deliveryReference"))


async def release(key: str) -> str:
    return str((await call("benefits", _RELEASE, {"key": key}))["releaseReservation"]["state"])


async def void(key: str) -> str:
    return str((await call("benefits", _VOID, {"key": key}))["voidReservation"]["state"])


async def revoke_recharge(key: str) -> str:
    return str((await call("benefits", _REVOKE, {"key": key}, slow=True))["revokeRecharge"]["state"])
