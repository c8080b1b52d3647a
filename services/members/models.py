"""Tables of the `members` schema.

Display name, birthday, phone and email exist only as AES-256-GCM ciphertext under the member's
own data key (in `member_keys`, wrapped by the master key); phone and email also as blind indexes
(keyed hashes) for lookups and uniqueness. Only the birthday month stays in clear (other services'
birthday multipliers and perks). Erasure deletes the key row and nulls the indexes: the ciphertext
left anywhere, backups included, can no longer be read or matched.
"""

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from shared.events.tables import inbox_table, outbox_tables
from shared.ids import new_id

SCHEMA = "members"
PHONE_UNIQUE = "uq_members_phone_index"
EMAIL_UNIQUE = "uq_members_email_index"


class MembersModel(SQLModel, registry=registry()):
    """Base of this service's tables: a metadata of its own, so migrations see only members."""


metadata = MembersModel.metadata


def _tz(nullable: bool = False, **kwargs: object) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(sa.DateTime(timezone=True), nullable=nullable, **kwargs)  # type: ignore[arg-type]


class Member(MembersModel, table=True):
    __tablename__ = "members"
    __table_args__ = (
        sa.Index("ix_members_joined", sa.text("joined_at DESC"), sa.text("id DESC")),
        sa.Index("ix_members_tier", "tier"),
        sa.Index("ix_members_status", "status"),
        sa.Index("ix_members_last_activity", "last_activity_at"),
        # Named: a duplicate registration is recognised by the constraint it violates.
        sa.UniqueConstraint("phone_index", name=PHONE_UNIQUE),
        sa.UniqueConstraint("email_index", name=EMAIL_UNIQUE),
        sa.CheckConstraint("status IN ('ACTIVE', 'SUSPENDED', 'ERASED')", name="ck_members_status"),
        sa.CheckConstraint("weekly_notification_cap BETWEEN 0 AND 50", name="ck_members_notification_cap"),
        {"schema": SCHEMA},
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    status: str = Field(default="ACTIVE", sa_column=sa.Column(sa.String(16), nullable=False))
    display_name_ciphertext: bytes | None = Field(default=None, sa_column=sa.Column(sa.LargeBinary, nullable=True))
    phone_ciphertext: bytes | None = Field(default=None, sa_column=sa.Column(sa.LargeBinary, nullable=True))
    phone_index: bytes | None = Field(
        default=None, sa_column=sa.Column(sa.LargeBinary, nullable=True)
    )
    email_ciphertext: bytes | None = Field(default=None, sa_column=sa.Column(sa.LargeBinary, nullable=True))
    email_index: bytes | None = Field(
        default=None, sa_column=sa.Column(sa.LargeBinary, nullable=True)
    )
    # The birthday (MM-DD) is sealed; its month alone stays in clear for birthday multipliers
    # and perks in other services (a month identifies no one).
    birthday_ciphertext: bytes | None = Field(default=None, sa_column=sa.Column(sa.LargeBinary, nullable=True))
    birthday_month: int | None = Field(default=None, sa_column=sa.Column(sa.SmallInteger, nullable=True))
    birthday_set_at: datetime | None = Field(default=None, sa_column=_tz(True))
    categories: list[str] = Field(
        default_factory=list,
        sa_column=sa.Column(ARRAY(sa.String(32)), nullable=False, server_default="{}"),
    )
    weekly_notification_cap: int = Field(
        default=7, sa_column=sa.Column(sa.SmallInteger, nullable=False, server_default="7")
    )
    tier: str = Field(sa_column=sa.Column(sa.String(20), nullable=False))
    tier_since: datetime = Field(sa_column=_tz())
    # Set when a review first finds the member below their tier; cleared when they are back above.
    below_threshold_since: datetime | None = Field(default=None, sa_column=_tz(True))
    tier_sequence: int = Field(default=0, sa_column=sa.Column(sa.Integer, nullable=False, server_default="0"))
    joined_at: datetime = Field(sa_column=_tz())
    last_activity_at: datetime | None = Field(default=None, sa_column=_tz(True))
    status_reason: str | None = Field(default=None, sa_column=sa.Column(sa.String(200), nullable=True))
    status_changed_at: datetime | None = Field(default=None, sa_column=_tz(True))
    erased_at: datetime | None = Field(default=None, sa_column=_tz(True))
    created_at: datetime = Field(sa_column=_tz(server_default=sa.func.now()))
    updated_at: datetime = Field(sa_column=_tz(server_default=sa.func.now()))


class MemberKey(MembersModel, table=True):
    """One member's data key, wrapped by the master key (and bound to the member id)."""

    __tablename__ = "member_keys"
    __table_args__ = {"schema": SCHEMA}

    member_id: uuid.UUID = Field(
        sa_column=sa.Column(sa.Uuid, sa.ForeignKey(f"{SCHEMA}.members.id"), primary_key=True)
    )
    wrapped_key: bytes = Field(sa_column=sa.Column(sa.LargeBinary, nullable=False))
    created_at: datetime = Field(sa_column=_tz(server_default=sa.func.now()))


class GrowthEvent(MembersModel, table=True):
    """Growth accepted for a member, keyed by the id of the event that brought it (redelivery of
    the same event finds its row and adds nothing)."""

    __tablename__ = "growth_events"
    __table_args__ = (
        sa.Index("ix_growth_events_member_time", "member_id", "occurred_at"),
        {"schema": SCHEMA},
    )

    event_id: str = Field(sa_column=sa.Column(sa.String(200), primary_key=True))
    member_id: uuid.UUID = Field(sa_column=sa.Column(sa.Uuid, sa.ForeignKey(f"{SCHEMA}.members.id"), nullable=False))
    kind: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    growth: int = Field(sa_column=sa.Column(sa.Integer, nullable=False))
    amount_minor: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger, nullable=True))
    currency: str | None = Field(default=None, sa_column=sa.Column(sa.String(3), nullable=True))
    occurred_at: datetime = Field(sa_column=_tz())
    recorded_at: datetime = Field(sa_column=_tz(server_default=sa.func.now()))
    source: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    fingerprint: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))


class TierPolicyVersion(MembersModel, table=True):
    """Every tier policy ever in force; the highest version is the current one (an audit trail)."""

    __tablename__ = "tier_policies"
    __table_args__ = {"schema": SCHEMA}

    version: int = Field(sa_column=sa.Column(sa.Integer, primary_key=True, autoincrement=False))
    policy: dict = Field(sa_column=sa.Column(JSONB, nullable=False))
    created_at: datetime = Field(sa_column=_tz(server_default=sa.func.now()))
    created_by: str = Field(sa_column=sa.Column(sa.String(100), nullable=False))
    note: str | None = Field(default=None, sa_column=sa.Column(sa.String(500), nullable=True))


class TierChange(MembersModel, table=True):
    """Tier history: one row per change, numbered per member (the `sequence` of TierChanged)."""

    __tablename__ = "tier_changes"
    __table_args__ = (
        sa.UniqueConstraint("member_id", "sequence", name="uq_tier_changes_member_sequence"),
        {"schema": SCHEMA},
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    member_id: uuid.UUID = Field(sa_column=sa.Column(sa.Uuid, sa.ForeignKey(f"{SCHEMA}.members.id"), nullable=False))
    sequence: int = Field(sa_column=sa.Column(sa.Integer, nullable=False))
    from_tier: str | None = Field(default=None, sa_column=sa.Column(sa.String(20), nullable=True))
    to_tier: str = Field(sa_column=sa.Column(sa.String(20), nullable=False))
    reason: str = Field(sa_column=sa.Column(sa.String(32), nullable=False))
    rolling_growth: int = Field(sa_column=sa.Column(sa.Integer, nullable=False))
    policy_version: int = Field(sa_column=sa.Column(sa.Integer, nullable=False))
    occurred_at: datetime = Field(sa_column=_tz())


class StatusChange(MembersModel, table=True):
    """Audit of suspensions, reactivations and erasures: who, when, why."""

    __tablename__ = "status_changes"
    __table_args__ = (sa.Index("ix_status_changes_member", "member_id"), {"schema": SCHEMA})

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    member_id: uuid.UUID = Field(sa_column=sa.Column(sa.Uuid, sa.ForeignKey(f"{SCHEMA}.members.id"), nullable=False))
    from_status: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    to_status: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    reason: str | None = Field(default=None, sa_column=sa.Column(sa.String(200), nullable=True))
    actor: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    occurred_at: datetime = Field(sa_column=_tz())


class TierReviewRun(MembersModel, table=True):
    """One run of the tier review, with what it did."""

    __tablename__ = "tier_review_runs"
    __table_args__ = {"schema": SCHEMA}

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    as_of: datetime = Field(sa_column=_tz())
    triggered_by: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    started_at: datetime = Field(sa_column=_tz())
    finished_at: datetime | None = Field(default=None, sa_column=_tz(True))
    reviewed: int = 0
    upgraded: int = 0
    marked: int = 0
    downgraded: int = 0
    cleared: int = 0



# The transactional outbox (members' events) and the inbox (events members consume).
OUTBOX = outbox_tables(metadata, SCHEMA)
INBOX = inbox_table(metadata, SCHEMA)
