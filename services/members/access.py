"""Who sees what of a member: the authorization matrix, decided here and nowhere else.

| field                                  | self, operator | customer service | service | partner, other member |
|----------------------------------------|----------------|------------------|---------|-----------------------|
| id, status, tier                       | yes            | yes              | yes     | yes                   |
| displayName, birthday                  | yes            | yes              | null    | null                  |
| phone, email                           | yes            | masked           | null    | null                  |
| birthdayMonth                          | yes            | yes              | yes     | null                  |
| joinedAt, lastActivityAt, lifecycle,   | yes            | yes              | yes     | null                  |
| preferences, tierProgress, tierHistory |                |                  |         |                       |

Whole-member reads (`member(id)`) by a partner or another member are FORBIDDEN; references to a
member from other subgraphs (`_entities`) resolve for any signed-in caller with the fields above.
Services get the birthday month (birthday multipliers) but not the birthday itself.
An erased member reads as erased to everyone: status ERASED, no personal data at all, and a
display name of "[erased]" for those who would otherwise see the name.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import datetime

from shared.auth.principals import Principal, PrincipalKind
from shared.crypto import decrypt_field, field_aad

from services.members.lifecycle import LifecycleStage, stage
from services.members.models import Member
from services.members.pii import ERASED_TEXT, MonthDay, mask_email, mask_phone


class Access(enum.Enum):
    FULL = "full"  # the member themself, operators
    MASKED = "masked"  # customer service
    SERVICE = "service"  # alliance services
    NONE = "none"  # partners, other members


def access_for(viewer: Principal, member_id: uuid.UUID) -> Access:
    if viewer.is_member(member_id) or viewer.is_operator:
        return Access.FULL
    if viewer.is_customer_service:
        return Access.MASKED
    if viewer.kind is PrincipalKind.SERVICE:
        return Access.SERVICE
    return Access.NONE


def may_read_whole_member(access: Access) -> bool:
    return access is not Access.NONE


@dataclass(frozen=True)
class Preferences:
    categories: tuple[str, ...]
    weekly_notification_cap: int


@dataclass(frozen=True)
class MemberView:
    """A member as one viewer may see them; fields they may not see are None."""

    id: uuid.UUID
    status: str
    tier: str
    access: Access
    display_name: str | None = None
    phone: str | None = None
    email: str | None = None
    birthday: MonthDay | None = None
    birthday_month: int | None = None
    joined_at: datetime | None = None
    last_activity_at: datetime | None = None
    lifecycle_stage: LifecycleStage | None = None
    preferences: Preferences | None = None
    below_threshold_since: datetime | None = None
    erased_at: datetime | None = None

    @property
    def erased(self) -> bool:
        return self.status == "ERASED"

    @property
    def shows_profile(self) -> bool:
        """Whether tier progress, history and such may be shown to this viewer."""
        return self.access is not Access.NONE and not self.erased


def present(member: Member, data_key: bytes | None, viewer: Principal, now: datetime) -> MemberView:
    """The view of `member` for `viewer`. Decrypts only what the viewer may see."""
    access = access_for(viewer, member.id)
    base = MemberView(id=member.id, status=member.status, tier=member.tier, access=access)
    if member.status == "ERASED":
        sees_names = access in (Access.FULL, Access.MASKED)
        return MemberView(
            id=member.id, status=member.status, tier=member.tier, access=access,
            display_name=ERASED_TEXT if sees_names else None,
            erased_at=member.erased_at if access is not Access.NONE else None,
        )
    if access is Access.NONE:
        return base
    birthday = (
        MonthDay(member.birthday_month, member.birthday_day)
        if member.birthday_month is not None and member.birthday_day is not None
        else None
    )
    profile = dict(
        birthday_month=birthday.month if birthday else None,
        joined_at=member.joined_at,
        last_activity_at=member.last_activity_at,
        lifecycle_stage=stage(member.joined_at, member.last_activity_at, now),
        preferences=Preferences(tuple(member.categories or ()), member.weekly_notification_cap),
        below_threshold_since=member.below_threshold_since,
    )
    if access is Access.SERVICE:
        return MemberView(id=member.id, status=member.status, tier=member.tier, access=access, **profile)
    phone = _decrypt(member, data_key, "phone")
    email = _decrypt(member, data_key, "email")
    if access is Access.MASKED:
        phone = mask_phone(phone) if phone else None
        email = mask_email(email) if email else None
    return MemberView(
        id=member.id, status=member.status, tier=member.tier, access=access,
        display_name=member.display_name, phone=phone, email=email, birthday=birthday, **profile,
    )


def _decrypt(member: Member, data_key: bytes | None, field: str) -> str | None:
    blob = getattr(member, f"{field}_ciphertext")
    if blob is None or data_key is None:
        return None
    return decrypt_field(data_key, blob, field_aad(member.id, field))
