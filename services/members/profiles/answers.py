"""What the profile operations take and answer: a member as one viewer may see them (`MemberView`),
and the inputs of partial updates and of the staff list."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from services.members.access import Access, shows_profile
from services.members.profiles.personal import PersonalFields
from services.members.profiles.pii import MonthDay


class Status(str, enum.Enum):
    ACTIVE = "ACTIVE"
    SUSPENDED = "SUSPENDED"
    ERASED = "ERASED"


class LifecycleStage(str, enum.Enum):
    """Where a member is in their relationship with the alliance (see `lifecycle`)."""

    NEW = "NEW"
    GROWING = "GROWING"
    MATURE = "MATURE"
    AT_RISK = "AT_RISK"


@dataclass(frozen=True)
class Preferences:
    categories: tuple[str, ...]
    weekly_notification_cap: int


@dataclass(frozen=True)
class MemberView:
    """A member as one viewer may see them; fields they may not see are None. The personal fields
    (display name, phone, email, birthday) are decrypted when first read (see `personal`)."""

    id: uuid.UUID
    status: str
    tier: str
    access: Access
    personal: PersonalFields | None = None
    birthday_month: int | None = None
    joined_at: datetime | None = None
    last_activity_at: datetime | None = None
    lifecycle_stage: LifecycleStage | None = None
    preferences: Preferences | None = None
    below_threshold_since: datetime | None = None
    erased_at: datetime | None = None

    @property
    def display_name(self) -> str | None:
        return self.personal.get("display_name") if self.personal else None

    @property
    def phone(self) -> str | None:
        return self.personal.get("phone") if self.personal else None

    @property
    def email(self) -> str | None:
        return self.personal.get("email") if self.personal else None

    @property
    def birthday(self) -> MonthDay | None:
        text = self.personal.get("birthday") if self.personal else None
        return MonthDay.parse(text) if text else None

    @property
    def erased(self) -> bool:
        return self.status == Status.ERASED.value

    @property
    def shows_profile(self) -> bool:
        """Whether tier progress, history and such may be shown to this viewer."""
        return shows_profile(self.access, self.erased)


class _Keep(enum.Enum):
    KEEP = "keep"


KEEP = _Keep.KEEP  # "leave this field as it is" in partial updates (None means "clear")


@dataclass(frozen=True)
class ProfileChanges:
    """A partial update: KEEP leaves a field alone; None clears an optional one (display name and
    phone cannot be cleared)."""

    display_name: str | None | Literal[_Keep.KEEP] = KEEP
    phone: str | None | Literal[_Keep.KEEP] = KEEP
    email: str | None | Literal[_Keep.KEEP] = KEEP
    birthday: str | MonthDay | None | Literal[_Keep.KEEP] = KEEP


@dataclass(frozen=True)
class MemberFilter:
    tier: str | None = None
    status: Status | None = None
    lifecycle_stage: LifecycleStage | None = None
    phone: str | None = None  # exact match through the blind index
    email: str | None = None
