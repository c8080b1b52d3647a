"""Points as the saga uses it: hold a member's points, capture them with settlement to the benefit's
owner, release them, and refund a capture. Each call is idempotent by its key."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from services.redemptions.peers.calls import call

_HOLD = """mutation Hold($input: HoldInput!) { holdPoints(input: $input) { id status amount } }"""
_CAPTURE = """mutation Capture($input: CaptureInput!) {
  captureHold(input: $input) { transactionId hold { status captured } }
}"""
_RELEASE = """mutation Release($holdId: ID!, $key: String!) {
  releaseHold(holdId: $holdId, idempotencyKey: $key) { hold { status } }
}"""
_REFUND = """mutation Refund($input: RefundInput!) {
  refundCapture(input: $input) { transactionId pointsRefunded toOriginalLots toGraceLots graceLotExpiresAt }
}"""


@dataclass(frozen=True, slots=True)
class Held:
    hold_id: uuid.UUID
    status: str


@dataclass(frozen=True, slots=True)
class Refunded:
    transaction_id: uuid.UUID | None
    to_original_lots: int
    to_grace_lots: int
    grace_expires_at: datetime | None


async def hold(member_id: uuid.UUID, points: int, *, ttl_seconds: int, reference: str, key: str) -> Held:
    data = await call("points", _HOLD, {"input": {
        "memberId": str(member_id), "points": points, "ttlSeconds": ttl_seconds, "reference": reference, "idempotencyKey": key,
    }})
    found = data["holdPoints"]
    return Held(uuid.UUID(found["id"]), found["status"])


async def capture(hold_id: uuid.UUID, points: int, *, beneficiary: uuid.UUID, value_minor: int, currency: str, key: str) -> uuid.UUID:
    data = await call("points", _CAPTURE, {"input": {
        "holdId": str(hold_id), "points": points, "idempotencyKey": key,
        "settlement": {"beneficiaryPartnerId": str(beneficiary), "valueMinor": value_minor, "currency": currency},
    }})
    return uuid.UUID(data["captureHold"]["transactionId"])


async def release(hold_id: uuid.UUID, *, key: str) -> str:
    data = await call("points", _RELEASE, {"holdId": str(hold_id), "key": key})
    return str(data["releaseHold"]["hold"]["status"])


async def refund(hold_id: uuid.UUID, points: int, *, reason: str | None, key: str) -> Refunded:
    data = await call("points", _REFUND, {"input": {"holdId": str(hold_id), "points": points, "reason": reason, "idempotencyKey": key}})
    found = data["refundCapture"]
    grace = found.get("graceLotExpiresAt")
    return Refunded(uuid.UUID(found["transactionId"]), int(found["toOriginalLots"]), int(found["toGraceLots"]),
                    datetime.fromisoformat(grace) if grace else None)
