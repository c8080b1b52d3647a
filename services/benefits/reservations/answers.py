"""What reservation steps answer (stored as JSON by the idempotent steps: never a code in clear)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from services.benefits.codes import rules


class ReservationAnswer(BaseModel):
    id: uuid.UUID
    key: str
    benefit_id: uuid.UUID
    member_id: uuid.UUID
    state: str
    code_id: uuid.UUID | None
    masked_code: str | None
    expires_at: datetime
    settlement_minor: int
    currency: str
    created_at: datetime
    issued_at: datetime | None
    released_at: datetime | None
    delivery_reference: str | None

    @classmethod
    def of(cls, row: Any) -> ReservationAnswer:
        return cls(
            id=row.id, key=row.key, benefit_id=row.benefit_id, member_id=row.member_id, state=row.state, code_id=row.code_id,
            masked_code=rules.masked(row.last4) if row.last4 is not None else None, expires_at=row.expires_at,
            settlement_minor=row.settlement_minor, currency=row.currency, created_at=row.created_at, issued_at=row.issued_at,
            released_at=row.released_at, delivery_reference=row.delivery_reference,
        )


class IssuedAnswer(BaseModel):
    """An issued reservation. `code` is the code in clear, for the calling service to deliver to the
    member; it is decrypted for each answer and never stored with the idempotency record."""

    reservation: ReservationAnswer
    valid_until: datetime | None
    code: str | None = None


class JobAnswer(BaseModel):
    released_reservations: int
    expired_codes: int
