"""What delivery operations answer: the delivery log of a reservation, attempt by attempt."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from services.benefits.delivery.rules import recharge_key


class AttemptAnswer(BaseModel):
    """One request to the partner's fulfilment endpoint, as support reads it."""

    reservation_id: uuid.UUID
    at: datetime
    kind: str  # RECHARGE, STATUS or REVOKE
    http_status: int | None
    error: str | None  # why it was no contract answer (timeout, connect_error, …)
    latency_ms: int | None
    outcome: str  # services.benefits.delivery.outcomes.AttemptOutcome
    detail: str | None  # the partner's reference or reason code
    idempotency_key: str  # the key the partner saw

    @classmethod
    def of(cls, row: Any) -> AttemptAnswer:
        return cls(
            reservation_id=row.reservation_id, at=row.at, kind=row.request, http_status=row.http_status, error=row.error,
            latency_ms=row.latency_ms, outcome=row.outcome, detail=row.detail, idempotency_key=recharge_key(row.key),
        )
