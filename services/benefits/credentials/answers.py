"""What credential operations answer: a key's metadata (never its secret), a key just issued (its
secret shown this once), and a bearer token."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from services.benefits.models import ApiKey


@dataclass(frozen=True, slots=True)
class ApiKeyView:
    id: uuid.UUID
    partner_id: uuid.UUID
    prefix: str
    label: str | None
    created_at: datetime
    created_by: str
    last_used_at: datetime | None
    revoked_at: datetime | None
    revoked_by: str | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    @classmethod
    def of(cls, row: ApiKey) -> ApiKeyView:
        return cls(
            id=row.id, partner_id=row.partner_id, prefix=row.prefix, label=row.label, created_at=row.created_at,
            created_by=row.created_by, last_used_at=row.last_used_at, revoked_at=row.revoked_at, revoked_by=row.revoked_by,
        )


@dataclass(frozen=True, slots=True)
class IssuedApiKey:
    api_key: str  # abk_<prefix>_<secret>: shown once, kept nowhere
    key: ApiKeyView


@dataclass(frozen=True, slots=True)
class PartnerToken:
    """An OAuth 2.0 access token (RFC 6749 §5.1)."""

    access_token: str
    expires_in: int
    partner_id: uuid.UUID
    token_type: str = "Bearer"
