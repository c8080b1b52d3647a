"""What the saga reads from members: the member's status, tier, birthday month and join date."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from services.redemptions.peers.calls import call

_MEMBER = """query RedeemingMember($r: [_Any!]!) {
  _entities(representations: $r) { ... on Member { id status tier birthdayMonth joinedAt } }
}"""


@dataclass(frozen=True, slots=True)
class MemberFacts:
    id: uuid.UUID
    status: str
    tier: str
    birthday_month: int | None
    joined_at: datetime | None

    def as_json(self) -> dict[str, object]:
        return {"status": self.status, "tier": self.tier, "birthdayMonth": self.birthday_month,
                "joinedAt": self.joined_at.isoformat() if self.joined_at else None}


async def member_facts(member_id: uuid.UUID) -> MemberFacts | None:
    """None: no such member."""
    data = await call("members", _MEMBER, {"r": [{"__typename": "Member", "id": str(member_id)}]})
    entities = data.get("_entities") or [None]
    found = entities[0] if isinstance(entities, list) and entities else None
    if not isinstance(found, dict) or not found.get("id"):
        return None
    joined = found.get("joinedAt")
    return MemberFacts(
        id=member_id, status=str(found["status"]), tier=str(found["tier"]), birthday_month=found.get("birthdayMonth"),
        joined_at=datetime.fromisoformat(joined) if isinstance(joined, str) else None,
    )
