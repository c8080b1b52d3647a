"""Settings of the points service (environment variables prefixed `ABG_POINTS_`)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class PointsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ABG_POINTS_", extra="ignore")

    # Expiry: a partner may configure its own months, never fewer than the minimum.
    default_expiry_months: int = Field(36, ge=1)
    min_expiry_months: int = Field(12, ge=1)
    # Pending until the partner's return window has passed (0 = available at once).
    default_return_window_days: int = Field(7, ge=0)
    # Refunded points whose lot expired meanwhile come back in a new lot living this long.
    grace_days: int = Field(30, ge=1)
    # Members hear about points expiring this many days ahead.
    expiry_notice_days: int = Field(30, ge=1)
    # Holds: a ttl outside these bounds is refused.
    min_hold_ttl_seconds: int = Field(1, ge=1)
    max_hold_ttl_seconds: int = Field(7 * 24 * 3600, ge=1)
    # Bulk purchase ingestion: items per call.
    max_bulk_purchases: int = Field(1000, ge=1)
    # A purchase time further ahead than this is refused (clock skew between partner and us).
    max_clock_skew_seconds: int = Field(300, ge=0)
    # Sanity caps on what a partner may report (a partner's programme may set its own): one
    # purchase's amount in minor units, points one member earns from one partner per UTC day (of
    # the purchase), and how old a purchase may be. Above them a purchase is refused with a typed error.
    max_purchase_minor: int = Field(10_000_000, ge=1)
    max_points_per_member_day: int = Field(200_000, ge=1)
    max_purchase_age_days: int = Field(90, ge=1)
    # The scheduled jobs (vest, expire, release expired holds, expiry notices); 0 turns them off.
    job_interval_seconds: float = Field(60.0, ge=0)
    # Members each job transaction handles, so one run never holds many member locks for long.
    job_batch_members: int = Field(200, ge=1)
    # Unknown members are confirmed with the members service ("members"), or accepted as they
    # come ("trust": for development setups that run points without members).
    member_check: str = Field("members", pattern="^(members|trust)$")
    # Run the ledger's hot statements on the asyncpg driver under SQLAlchemy's transaction (see
    # shared/database/statements.py); off runs everything through SQLAlchemy Core (slower; to compare).
    driver_statements: bool = True
    # Services that receive points' events, by type (comma-separated).
    purchase_event_subscribers: str = "members"
    expiry_notice_subscribers: str = ""
    # Signed checkpoints of every member's chain head (services/points/audit/checkpoints.py): the
    # Ed25519 private key (base64 of its 32 bytes; a derived development key unless set, refused in
    # production), the append-only directory the files go to (default: <ABG_DATA_DIR>/points-checkpoints),
    # and how often the jobs loop takes one (0: never; operators may still take one).
    checkpoint_key: str | None = None
    checkpoint_dir: Path | None = None
    checkpoint_interval_seconds: float = Field(3600.0, ge=0)

    @staticmethod
    def _names(value: str) -> tuple[str, ...]:
        return tuple(name.strip() for name in value.split(",") if name.strip())

    @property
    def purchase_subscribers(self) -> tuple[str, ...]:
        return self._names(self.purchase_event_subscribers)

    @property
    def expiry_subscribers(self) -> tuple[str, ...]:
        return self._names(self.expiry_notice_subscribers)


@lru_cache
def get_points_settings() -> PointsSettings:
    return PointsSettings()


def reset_points_settings_cache() -> None:
    get_points_settings.cache_clear()
