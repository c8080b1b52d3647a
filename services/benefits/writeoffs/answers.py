"""What write-off operations answer (stored as JSON by the idempotent ones: never a code in clear)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel

from services.benefits.codes import rules


class WriteOffAnswer(BaseModel):
    """One write-off. `code` is in clear only in the answer of the write-off itself (the partner
    typed it); everywhere else it is masked."""

    id: uuid.UUID
    code_id: uuid.UUID
    benefit_id: uuid.UUID
    partner_id: uuid.UUID
    member_id: uuid.UUID | None
    store_id: str
    created_at: datetime
    created_by: str
    undone_at: datetime | None
    undone_by: str | None
    undoable_until: datetime
    masked_code: str
    reservation_key: str | None = None
    code: str | None = None

    @classmethod
    def of(cls, row: Any, undo_seconds: int, reservation_key: str | None = None) -> WriteOffAnswer:
        return cls(
            id=row.id, code_id=row.code_id, benefit_id=row.benefit_id, partner_id=row.partner_id, member_id=row.member_id,
            store_id=row.store_id, created_at=row.created_at, created_by=row.created_by, undone_at=row.undone_at,
            undone_by=row.undone_by, undoable_until=row.created_at + timedelta(seconds=undo_seconds),
            masked_code=rules.masked(row.last4), reservation_key=reservation_key,
        )
