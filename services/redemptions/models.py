"""Tables of the `redemptions` schema: the redemptions (each a saga persisted step by step), their
timelines, the alliance-wide redemption rules, abuse signals, blocked members and the identities
(platform accounts, devices) members redeemed with.

Points and money are integers (money in minor units beside an ISO 4217 code); times are UTC. States
are short upper-case strings checked by the database.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from shared.events import inbox_table, outbox_tables

SCHEMA = "redemptions"

STATUSES = ("PENDING", "COMPLETED", "FAILED", "REFUNDED", "NEEDS_ATTENTION")
# The step a PENDING saga does next (RELEASE: compensating); DONE once it has ended.
STEPS = ("HOLD", "RESERVE", "DELIVER", "CAPTURE", "COMPLETE", "RELEASE", "DONE")
KINDS = ("VOUCHER", "VIDEO_MEMBERSHIP")
DELIVERIES = ("CODE", "RECHARGE")
CODE_STATES = ("ISSUED", "USED", "VOIDED")
REFUND_STATES = ("PENDING", "DONE")
SIGNAL_STATUSES = ("OPEN", "RELEASED", "BLOCKED")
IDENTITY_KINDS = ("ACCOUNT", "DEVICE")


class RedemptionsModel(SQLModel, registry=registry()):
    """Base of this service's tables: a metadata of its own, so migrations see only redemptions."""


metadata = RedemptionsModel.metadata

OUTBOX = outbox_tables(metadata, SCHEMA)
INBOX = inbox_table(metadata, SCHEMA)


def _in(column: str, values: tuple[str, ...], name: str) -> sa.CheckConstraint:
    return sa.CheckConstraint(f"{column} IN ({', '.join(repr(v) for v in values)})", name=name)


def _tz(nullable: bool = False, **kwargs: Any) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(sa.DateTime(timezone=True), nullable=nullable, **kwargs)


def _str(length: int, nullable: bool = False, **kwargs: Any) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(sa.String(length), nullable=nullable, **kwargs)


def _big(nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(sa.BigInteger, nullable=nullable)


class Redemption(RedemptionsModel, table=True):
    """One member spending points on one benefit: the saga's state, what each step learnt (the
    hold, the reservation's settlement, the delivered code or recharge reference), the lease of the
    process driving it, and the refund."""

    __tablename__ = "redemptions"
    __table_args__ = (
        sa.UniqueConstraint("member_id", "idempotency_key", name="uq_redemptions_member_key"),
        sa.Index("ix_redemptions_member_created", "member_id", sa.text("created_at DESC"), sa.text("id DESC")),
        sa.Index("ix_redemptions_partner_created", "partner_id", sa.text("created_at DESC"), sa.text("id DESC")),
        sa.Index("ix_redemptions_created", sa.text("created_at DESC"), sa.text("id DESC")),
        sa.Index("ix_redemptions_benefit", "benefit_id"),
        # Operators' figures count each redemption in the period it completed, failed or was refunded in.
        sa.Index("ix_redemptions_completed", "completed_at", postgresql_where=sa.text("completed_at IS NOT NULL")),
        sa.Index("ix_redemptions_failed", "failed_at", postgresql_where=sa.text("failed_at IS NOT NULL")),
        sa.Index("ix_redemptions_refunded", "refunded_at", postgresql_where=sa.text("refunded_at IS NOT NULL")),
        # The recovery loop's scan: only sagas in flight (and refunds in flight) are indexed.
        sa.Index("ix_redemptions_in_flight", "next_attempt_at",
                 postgresql_where=sa.text("status = 'PENDING' OR refund_state = 'PENDING'")),
        sa.Index("ix_redemptions_attention", "updated_at", postgresql_where=sa.text("status = 'NEEDS_ATTENTION'")),
        _in("status", STATUSES, "ck_redemptions_status"),
        _in("step", STEPS, "ck_redemptions_step"),
        _in("kind", KINDS, "ck_redemptions_kind"),
        _in("delivery", DELIVERIES, "ck_redemptions_delivery"),
        sa.CheckConstraint(f"code_state IS NULL OR code_state IN {CODE_STATES}", name="ck_redemptions_code_state"),
        sa.CheckConstraint(f"refund_state IS NULL OR refund_state IN {REFUND_STATES}", name="ck_redemptions_refund_state"),
        sa.CheckConstraint("points >= 0", name="ck_redemptions_points"),
        {"schema": SCHEMA},
    )

    id: uuid.UUID = Field(sa_column=sa.Column(sa.Uuid, primary_key=True))
    member_id: uuid.UUID = Field(sa_column=sa.Column(sa.Uuid, nullable=False))
    benefit_id: uuid.UUID = Field(sa_column=sa.Column(sa.Uuid, nullable=False))
    partner_id: uuid.UUID = Field(sa_column=sa.Column(sa.Uuid, nullable=False))
    kind: str = Field(sa_column=_str(20))
    delivery: str = Field(sa_column=_str(10))
    title: str = Field(sa_column=_str(200))
    points: int = Field(sa_column=_big())
    settlement_minor: int | None = Field(default=None, sa_column=_big(True))
    currency: str | None = Field(default=None, sa_column=_str(3, True))
    status: str = Field(sa_column=_str(20))
    step: str = Field(sa_column=_str(10))
    idempotency_key: str = Field(sa_column=_str(200))
    fingerprint: str = Field(sa_column=_str(64))
    deliver_to: str | None = Field(default=None, sa_column=_str(200, True))
    device_id: str | None = Field(default=None, sa_column=_str(200, True))
    client_ip: str | None = Field(default=None, sa_column=_str(64, True))
    member_facts: dict[str, Any] = Field(default_factory=dict, sa_column=sa.Column(JSONB, nullable=False, server_default="{}"))
    hold_id: uuid.UUID | None = Field(default=None, sa_column=sa.Column(sa.Uuid, nullable=True))
    # Set once the benefit may have been reserved (a reserve was sent): compensation releases it.
    reserve_sent: bool = Field(default=False, sa_column=sa.Column(sa.Boolean, nullable=False, server_default="false"))
    # The delivered code, encrypted (the member reads it in clear), its mask and validity.
    code_ciphertext: bytes | None = Field(default=None, sa_column=sa.Column(sa.LargeBinary, nullable=True))
    code_masked: str | None = Field(default=None, sa_column=_str(64, True))
    code_valid_until: datetime | None = Field(default=None, sa_column=_tz(True))
    code_state: str | None = Field(default=None, sa_column=_str(10, True))
    code_used_at: datetime | None = Field(default=None, sa_column=_tz(True))
    recharge_reference: str | None = Field(default=None, sa_column=_str(200, True))
    capture_transaction_id: uuid.UUID | None = Field(default=None, sa_column=sa.Column(sa.Uuid, nullable=True))
    failure_code: str | None = Field(default=None, sa_column=_str(40, True))
    failure_message: str | None = Field(default=None, sa_column=_str(500, True))
    # Set when a failure is being compensated: the failure the saga ends with once released.
    attention_reason: str | None = Field(default=None, sa_column=_str(500, True))
    attempts: int = Field(default=0, sa_column=sa.Column(sa.Integer, nullable=False, server_default="0"))
    step_started_at: datetime = Field(sa_column=_tz())
    next_attempt_at: datetime = Field(sa_column=_tz())
    lease_owner: str | None = Field(default=None, sa_column=_str(80, True))
    lease_until: datetime | None = Field(default=None, sa_column=_tz(True))
    created_at: datetime = Field(sa_column=_tz())
    updated_at: datetime = Field(sa_column=_tz())
    completed_at: datetime | None = Field(default=None, sa_column=_tz(True))
    failed_at: datetime | None = Field(default=None, sa_column=_tz(True))
    refund_window_days: int | None = Field(default=None, sa_column=sa.Column(sa.SmallInteger, nullable=True))
    refund_state: str | None = Field(default=None, sa_column=_str(10, True))
    refund_step: str | None = Field(default=None, sa_column=_str(10, True))
    refund_reason: str | None = Field(default=None, sa_column=_str(500, True))
    refund_requested_by: str | None = Field(default=None, sa_column=_str(120, True))
    refund_requested_at: datetime | None = Field(default=None, sa_column=_tz(True))
    refunded_at: datetime | None = Field(default=None, sa_column=_tz(True))
    refund_to_lots: int | None = Field(default=None, sa_column=_big(True))
    refund_to_grace: int | None = Field(default=None, sa_column=_big(True))
    refund_grace_expires_at: datetime | None = Field(default=None, sa_column=_tz(True))
    refund_failure: str | None = Field(default=None, sa_column=_str(500, True))


class RedemptionStep(RedemptionsModel, table=True):
    """The timeline: one row per thing a saga did or learnt, oldest first."""

    __tablename__ = "redemption_steps"
    __table_args__ = (sa.Index("ix_redemption_steps_redemption", "redemption_id", "id"), {"schema": SCHEMA})

    id: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger, sa.Identity(), primary_key=True))
    redemption_id: uuid.UUID = Field(sa_column=sa.Column(sa.Uuid, nullable=False))
    step: str = Field(sa_column=_str(20))
    outcome: str = Field(sa_column=_str(20))
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=sa.Column(JSONB, nullable=False, server_default="{}"))
    at: datetime = Field(sa_column=_tz())


class RedemptionRules(RedemptionsModel, table=True):
    """The alliance-wide rules operators configure (one row; null: no such rule)."""

    __tablename__ = "rules"
    __table_args__ = (sa.CheckConstraint("id = 1", name="ck_rules_single_row"), {"schema": SCHEMA})

    id: int = Field(default=1, sa_column=sa.Column(sa.SmallInteger, primary_key=True))
    per_member_per_hour: int | None = Field(default=None, sa_column=sa.Column(sa.Integer, nullable=True))
    points_per_member_per_day: int | None = Field(default=None, sa_column=_big(True))
    members_per_account: int | None = Field(default=None, sa_column=sa.Column(sa.Integer, nullable=True))
    members_per_device: int | None = Field(default=None, sa_column=sa.Column(sa.Integer, nullable=True))
    young_account_days: int | None = Field(default=None, sa_column=sa.Column(sa.Integer, nullable=True))
    high_value_points: int | None = Field(default=None, sa_column=_big(True))
    updated_at: datetime = Field(sa_column=_tz())
    updated_by: str = Field(sa_column=_str(120))


class AbuseSignal(RedemptionsModel, table=True):
    """A suspicious pattern operators look at: OPEN until released or the member blocked."""

    __tablename__ = "abuse_signals"
    __table_args__ = (
        sa.Index("ix_abuse_signals_open", "created_at", postgresql_where=sa.text("status = 'OPEN'")),
        sa.Index("ix_abuse_signals_member", "member_id", "kind", "status"),
        _in("status", SIGNAL_STATUSES, "ck_abuse_signals_status"),
        {"schema": SCHEMA},
    )

    id: uuid.UUID = Field(sa_column=sa.Column(sa.Uuid, primary_key=True))
    member_id: uuid.UUID = Field(sa_column=sa.Column(sa.Uuid, nullable=False))
    kind: str = Field(sa_column=_str(40))
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=sa.Column(JSONB, nullable=False, server_default="{}"))
    status: str = Field(sa_column=_str(10))
    created_at: datetime = Field(sa_column=_tz())
    resolved_at: datetime | None = Field(default=None, sa_column=_tz(True))
    resolved_by: str | None = Field(default=None, sa_column=_str(120, True))
    note: str | None = Field(default=None, sa_column=_str(500, True))


class MemberBlock(RedemptionsModel, table=True):
    """A member operators blocked from redeeming."""

    __tablename__ = "member_blocks"
    __table_args__ = ({"schema": SCHEMA},)

    member_id: uuid.UUID = Field(sa_column=sa.Column(sa.Uuid, primary_key=True))
    reason: str = Field(sa_column=_str(500))
    blocked_by: str = Field(sa_column=_str(120))
    blocked_at: datetime = Field(sa_column=_tz())


class IdentityUse(RedemptionsModel, table=True):
    """A platform account or device a member redeemed with, by a keyed hash (never in clear)."""

    __tablename__ = "identity_uses"
    __table_args__ = (
        _in("kind", IDENTITY_KINDS, "ck_identity_uses_kind"),
        {"schema": SCHEMA},
    )

    kind: str = Field(sa_column=sa.Column(sa.String(10), primary_key=True))
    value_hash: bytes = Field(sa_column=sa.Column(sa.LargeBinary, primary_key=True))
    member_id: uuid.UUID = Field(sa_column=sa.Column(sa.Uuid, primary_key=True))
    first_seen_at: datetime = Field(sa_column=_tz())
