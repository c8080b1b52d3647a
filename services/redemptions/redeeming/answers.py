"""What reading a redemption answers, shaped for the caller: the code in clear only for its member,
no member for partners."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shared.auth.principals import Principal

from services.redemptions import access, secrets
from services.redemptions.models import Redemption, RedemptionStep


@dataclass(frozen=True, slots=True)
class StepAnswer:
    step: str
    outcome: str
    at: datetime
    detail: dict[str, Any]


@dataclass(frozen=True, slots=True)
class RedemptionAnswer:
    id: uuid.UUID
    member_id: uuid.UUID | None
    benefit_id: uuid.UUID
    partner_id: uuid.UUID
    kind: str
    delivery: str
    title: str
    points: int
    settlement_minor: int | None
    currency: str | None
    status: str
    step: str
    idempotency_key: str | None
    code: str | None
    code_masked: str | None
    code_state: str | None
    code_valid_until: datetime | None
    code_used_at: datetime | None
    recharge_reference: str | None
    failure_code: str | None
    failure_message: str | None
    attention_reason: str | None
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None
    refund_state: str | None
    refunded_at: datetime | None
    refund_reason: str | None
    refund_to_lots: int | None
    refund_to_grace: int | None
    refund_grace_expires_at: datetime | None
    refund_failure: str | None
    refundable_until: datetime | None
    timeline: list[StepAnswer]

    @classmethod
    def of(cls, row: Redemption, steps: list[RedemptionStep], principal: Principal) -> RedemptionAnswer:
        own = access.sees_code(principal, row.member_id)
        code = secrets.open_code(row.id, row.code_ciphertext) if own and row.code_ciphertext else None
        partner_view = not access.sees_member(principal)
        return cls(
            id=row.id, member_id=None if partner_view else row.member_id, benefit_id=row.benefit_id, partner_id=row.partner_id,
            kind=row.kind, delivery=row.delivery, title=row.title, points=row.points, settlement_minor=row.settlement_minor,
            currency=row.currency, status=row.status, step=row.step,
            idempotency_key=None if partner_view else row.idempotency_key,
            code=code, code_masked=row.code_masked, code_state=row.code_state, code_valid_until=row.code_valid_until,
            code_used_at=row.code_used_at, recharge_reference=row.recharge_reference, failure_code=row.failure_code,
            failure_message=row.failure_message, attention_reason=row.attention_reason, created_at=row.created_at,
            updated_at=row.updated_at, completed_at=row.completed_at, refund_state=row.refund_state,
            refunded_at=row.refunded_at, refund_reason=row.refund_reason, refund_to_lots=row.refund_to_lots,
            refund_to_grace=row.refund_to_grace, refund_grace_expires_at=row.refund_grace_expires_at,
            refund_failure=row.refund_failure, refundable_until=refundable_until(row),
            timeline=[StepAnswer(s.step, s.outcome, s.at, s.detail) for s in steps],
        )


def refundable_until(row: Redemption) -> datetime | None:
    """Until when the member may refund it themself (None: not by the member)."""
    if row.refund_window_days is None or row.completed_at is None:
        return None
    return row.completed_at + timedelta(days=row.refund_window_days)
