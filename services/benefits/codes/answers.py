"""What the code-pool operations answer. Stored as JSON by idempotent operations, so pydantic models."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel


class LineErrorAnswer(BaseModel):
    line: int
    reason: str  # TOO_LONG, BAD_CHARACTER, DUPLICATE (an earlier line), ALREADY_EXISTS (in a pool)
    message: str
    column: int | None = None


class UploadAnswer(BaseModel):
    """One upload or generation into a pool: complete counts and the first refused lines."""

    id: uuid.UUID
    benefit_id: uuid.UUID
    key: str
    accepted: int
    rejected: int
    errors: list[LineErrorAnswer]
    created_at: datetime
    created_by: str


class StockAnswer(BaseModel):
    """A benefit's stock. `available`/`total` are None when unlimited; the low-stock setting is
    given only to those who manage the benefit and to staff (None otherwise)."""

    benefit_id: uuid.UUID
    available: int | None
    reserved: int
    issued: int
    used: int
    voided: int
    expired: int
    total: int | None
    low_stock_threshold: int | None = None
    low_stock_alerted: bool | None = None


class CodeAnswer(BaseModel):
    """One code as the caller may see it: `code` is in clear only for its holder (`clear`)."""

    id: uuid.UUID
    benefit_id: uuid.UUID
    state: str
    code: str
    masked_code: str
    clear: bool
    member_id: uuid.UUID | None
    issued_at: datetime | None
    valid_until: datetime | None
    used_at: datetime | None
    voided_at: datetime | None


class UsageAnswer(BaseModel):
    """Codes of one benefit issued to members (not voided) and written off, for usage rates."""

    benefit_id: uuid.UUID
    issued: int
    used: int

    @property
    def rate(self) -> float | None:
        return self.used / self.issued if self.issued else None
