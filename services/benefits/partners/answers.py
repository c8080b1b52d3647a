"""What partner operations answer: a partner as one caller may see it, and the inputs they take."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from services.benefits.models import Partner
from services.benefits.partners.rules import UNCHANGED, PartnerRole, PartnerStatus, Unchanged


@dataclass(frozen=True, slots=True)
class PartnerView:
    """A partner as one caller sees it. The public face (id, name, brand, status, logo, categories)
    is for every signed-in caller; the rest is None unless `private` (the partner itself, staff and
    alliance services)."""

    id: uuid.UUID
    name: str
    brand: str
    status: PartnerStatus
    logo_url: str | None
    categories: tuple[str, ...]
    private: bool = False
    roles: tuple[PartnerRole, ...] | None = None
    currency: str | None = None
    contact_name: str | None = None
    contact_email: str | None = None
    webhook_url: str | None = None
    fulfilment_url: str | None = None
    status_reason: str | None = None
    version: int | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @classmethod
    def of(cls, row: Partner, *, private: bool) -> PartnerView:
        public = dict(
            id=row.id, name=row.name, brand=row.brand, status=PartnerStatus(row.status), logo_url=row.logo_url,
            categories=tuple(row.categories or ()),
        )
        if not private:
            return cls(**public)  # type: ignore[arg-type]
        return cls(
            **public,  # type: ignore[arg-type]
            private=True,
            roles=tuple(PartnerRole(r) for r in row.roles),
            currency=row.currency,
            contact_name=row.contact_name,
            contact_email=row.contact_email,
            webhook_url=row.webhook_url,
            fulfilment_url=row.fulfilment_url,
            status_reason=row.status_reason,
            version=row.version,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


@dataclass(frozen=True, slots=True)
class PartnerDraft:
    """A partner as an operator registers it; `id` fixes the id (the demo partners keep theirs)."""

    name: str
    brand: str
    roles: Sequence[str]
    currency: str
    id: uuid.UUID | str | None = None
    contact_name: str | None = None
    contact_email: str | None = None
    logo_url: str | None = None
    categories: Sequence[str] = ()
    webhook_url: str | None = None
    fulfilment_url: str | None = None


@dataclass(frozen=True, slots=True)
class ProfileChanges:
    """What to change in a profile: UNCHANGED leaves a field as it is, None clears an optional one.
    `roles` is for operators only."""

    name: str | Unchanged = UNCHANGED
    brand: str | Unchanged = UNCHANGED
    contact_name: str | None | Unchanged = UNCHANGED
    contact_email: str | None | Unchanged = UNCHANGED
    logo_url: str | None | Unchanged = UNCHANGED
    categories: Sequence[str] | None | Unchanged = UNCHANGED
    webhook_url: str | None | Unchanged = UNCHANGED
    fulfilment_url: str | None | Unchanged = UNCHANGED
    roles: Sequence[str] | Unchanged = UNCHANGED
