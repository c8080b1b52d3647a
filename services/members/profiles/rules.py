"""Pure decisions about members (no I/O): what a viewer sees, what a change may be, how personal
data is sealed (encrypted under the member's key, indexed by a keyed hash)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.auth.principals import Principal
from shared.crypto import blind_index, decrypt_field, encrypt_field, field_aad
from shared.errors import InvalidInput, LimitExceeded

from services.members.access import Access, access_for
from services.members.models import Member
from services.members.profiles.answers import (
    KEEP,
    LifecycleStage,
    MemberFilter,
    MemberView,
    Preferences,
    ProfileChanges,
    Status,
)
from services.members.profiles.lifecycle import stage
from services.members.profiles.personal import SEALED_FIELDS, PersonalFields
from services.members.profiles.pii import (
    ERASED_TEXT,
    MonthDay,
    mask_email,
    mask_phone,
    normalise_display_name,
    normalise_email,
    normalise_phone,
)
from services.members.tiers.policy import TIER_CODE

PHONE_PURPOSE = "members.phone"
EMAIL_PURPOSE = "members.email"
BIRTHDAY_COOLDOWN = timedelta(days=365)
MAX_CATEGORIES = 20
CATEGORY = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
MAX_REASON = 200
NOTIFICATION_CAP_MAX = 50


# --- what a viewer sees ------------------------------------------------------------------------


def present(member: Member, data_key: Callable[[], bytes | None], viewer: Principal, now: datetime) -> MemberView:
    """The view of `member` for `viewer`. Nothing is decrypted here: the view opens only the
    personal fields the viewer may see, when they are read (`data_key` unwraps on first call)."""
    access = access_for(viewer, member.id)
    base = MemberView(id=member.id, status=member.status, tier=member.tier, access=access)
    if member.status == Status.ERASED.value:
        sees_names = access in (Access.FULL, Access.MASKED)
        return MemberView(
            id=member.id, status=member.status, tier=member.tier, access=access,
            personal=PersonalFields.fixed({"display_name": ERASED_TEXT if sees_names else None}),
            erased_at=member.erased_at if access is not Access.NONE else None,
        )
    if access is Access.NONE:
        return base
    profile = dict(
        birthday_month=member.birthday_month,
        joined_at=member.joined_at,
        last_activity_at=member.last_activity_at,
        lifecycle_stage=stage(member.joined_at, member.last_activity_at, now),
        preferences=Preferences(tuple(member.categories or ()), member.weekly_notification_cap),
        below_threshold_since=member.below_threshold_since,
    )
    if access is Access.SERVICE:
        return MemberView(id=member.id, status=member.status, tier=member.tier, access=access, **profile)
    masks = {"phone": mask_phone, "email": mask_email} if access is Access.MASKED else None
    sealed = {field: getattr(member, f"{field}_ciphertext") for field in SEALED_FIELDS}
    return MemberView(
        id=member.id, status=member.status, tier=member.tier, access=access,
        personal=PersonalFields(member.id, sealed, data_key, masks), **profile,
    )


def _open(member: Member, data_key: bytes, field: str) -> str | None:
    blob = getattr(member, f"{field}_ciphertext")
    return decrypt_field(data_key, blob, field_aad(member.id, field)) if blob is not None else None


def _stored_birthday(member: Member, data_key: bytes) -> MonthDay | None:
    text = _open(member, data_key, "birthday")
    return MonthDay.parse(text) if text else None


# --- input -------------------------------------------------------------------------------------


def birthday(value: str | MonthDay | None) -> MonthDay | None:
    if value is None or isinstance(value, MonthDay):
        return value
    return MonthDay.parse(value)


def optional_email(value: str | None) -> str | None:
    """A blank email is no email."""
    return normalise_email(value) if value is not None and value.strip() else None


def validated_changes(changes: ProfileChanges) -> ProfileChanges:
    """Every field checked and normalised before anything is touched: one bad field changes nothing."""
    if changes.display_name is None or changes.phone is None:
        raise InvalidInput(
            "displayName and phone cannot be cleared", field="displayName" if changes.display_name is None else "phone"
        )
    return ProfileChanges(
        display_name=normalise_display_name(changes.display_name) if changes.display_name is not KEEP else KEEP,
        phone=normalise_phone(changes.phone) if changes.phone is not KEEP else KEEP,
        email=optional_email(changes.email) if changes.email is not KEEP else KEEP,
        birthday=birthday(changes.birthday) if changes.birthday is not KEEP else KEEP,
    )


def categories(values: Sequence[str]) -> list[str]:
    if len(values) > MAX_CATEGORIES:
        raise InvalidInput(f"at most {MAX_CATEGORIES} categories", field="categories")
    cleaned: list[str] = []
    for value in values:
        slug = value.strip().lower() if isinstance(value, str) else ""
        if not CATEGORY.fullmatch(slug):
            raise InvalidInput(
                "a category is 1–32 characters of a–z, 0–9, _ and -, e.g. 'video' or 'coffee'", field="categories"
            )
        if slug not in cleaned:
            cleaned.append(slug)
    return cleaned


def notification_cap(value: int | None) -> int | None:
    if value is not None and not 0 <= value <= NOTIFICATION_CAP_MAX:
        raise InvalidInput(
            f"weeklyNotificationCap must be between 0 and {NOTIFICATION_CAP_MAX}", field="weeklyNotificationCap"
        )
    return value


def reason(value: str | None) -> str | None:
    if value is None:
        return None
    value = " ".join(value.split())
    if len(value) > MAX_REASON:
        raise InvalidInput(f"reason is longer than {MAX_REASON} characters", field="reason")
    return value or None


def tier_code(value: str) -> str:
    code = value.strip().upper()
    if not TIER_CODE.fullmatch(code):
        raise InvalidInput("tier is not a tier code", field="tier")
    return code


@dataclass(frozen=True)
class ListCriteria:
    """A staff list filter, checked and turned into what the store compares columns with."""

    tier: str | None
    status: Status | None
    lifecycle_stage: LifecycleStage | None
    phone_index: bytes | None
    email_index: bytes | None


def list_criteria(filter: MemberFilter) -> ListCriteria:
    return ListCriteria(
        tier=tier_code(filter.tier) if filter.tier is not None else None,
        status=Status(filter.status) if filter.status is not None else None,
        lifecycle_stage=LifecycleStage(filter.lifecycle_stage) if filter.lifecycle_stage is not None else None,
        phone_index=blind_index(normalise_phone(filter.phone), PHONE_PURPOSE) if filter.phone is not None else None,
        email_index=blind_index(normalise_email(filter.email), EMAIL_PURPOSE) if filter.email is not None else None,
    )


# --- changes to a member row -------------------------------------------------------------------


def _seal(member: Member, data_key: bytes, field: str, value: str | None) -> None:
    blob = encrypt_field(data_key, value, field_aad(member.id, field)) if value is not None else None
    setattr(member, f"{field}_ciphertext", blob)


def seal_display_name(member: Member, data_key: bytes, name: str) -> None:
    _seal(member, data_key, "display_name", name)


def seal_phone(member: Member, data_key: bytes, e164: str) -> None:
    _seal(member, data_key, "phone", e164)
    member.phone_index = blind_index(e164, PHONE_PURPOSE)


def seal_email(member: Member, data_key: bytes, email: str | None) -> None:
    _seal(member, data_key, "email", email)
    member.email_index = blind_index(email, EMAIL_PURPOSE) if email is not None else None


def seal_birthday(member: Member, data_key: bytes, value: MonthDay | None) -> None:
    """The whole birthday is sealed; only its month stays in clear, because points (birthday
    multiplier) and benefits (birthday perks) need it and a month alone identifies no one."""
    _seal(member, data_key, "birthday", str(value) if value else None)
    member.birthday_month = value.month if value else None


def set_birthday(
    member: Member, data_key: bytes, value: MonthDay | None, *, cooldown_applies: bool, now: datetime
) -> None:
    """The birthday drives birthday rewards, so it may change once per 365 days (for those the
    cooldown binds); setting the same one again is not a change."""
    if value == _stored_birthday(member, data_key):
        return
    if member.birthday_set_at is not None and cooldown_applies:
        allowed_at = member.birthday_set_at + BIRTHDAY_COOLDOWN
        if now < allowed_at:
            raise LimitExceeded(
                "the birthday can be changed once every 365 days",
                field="birthday",
                nextChangeAllowedAt=allowed_at.isoformat(),
            )
    seal_birthday(member, data_key, value)
    member.birthday_set_at = now


def apply_changes(
    member: Member, data_key: bytes, changes: ProfileChanges, *, cooldown_applies: bool, now: datetime
) -> None:
    """`changes` must have passed `validated_changes`."""
    if changes.display_name is not KEEP:
        seal_display_name(member, data_key, changes.display_name)  # type: ignore[arg-type]
    if changes.phone is not KEEP:
        seal_phone(member, data_key, changes.phone)  # type: ignore[arg-type]
    if changes.email is not KEEP:
        seal_email(member, data_key, changes.email)
    if changes.birthday is not KEEP:
        set_birthday(member, data_key, changes.birthday, cooldown_applies=cooldown_applies, now=now)  # type: ignore[arg-type]
    member.updated_at = now


def forget(member: Member, reason: str | None, now: datetime) -> None:
    """Clears everything personal from the row; the id, tier and growth stay."""
    member.status, member.status_reason, member.status_changed_at = Status.ERASED.value, reason, now
    member.erased_at = now
    member.display_name_ciphertext = member.birthday_ciphertext = None
    member.phone_ciphertext = member.phone_index = None
    member.email_ciphertext = member.email_index = None
    member.birthday_month = member.birthday_set_at = None
    member.categories = []
    member.below_threshold_since = None
    member.updated_at = now
