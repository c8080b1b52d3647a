"""Settings of the benefits service (environment variables prefixed `ABG_BENEFITS_`)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class BenefitsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ABG_BENEFITS_", extra="ignore")

    # Services that receive benefits' events (partner status changes, alerts), comma-separated.
    event_subscribers: str = "points"
    # Partner bearer tokens exchanged for an API key live this long.
    partner_token_ttl_seconds: int = Field(900, ge=60, le=86400)
    # A reservation (a redemption in flight) gives its code, stock and budget back after this.
    reservation_ttl_seconds: int = Field(900, ge=10, le=86400)
    # A write-off may be undone by the same partner within this window.
    write_off_undo_seconds: int = Field(900, ge=0)
    # A rotated webhook secret keeps signing for this long beside the new one.
    webhook_secret_overlap_seconds: int = Field(86400, ge=0)
    # Partners' webhooks: attempts before a delivery is marked failed (it can be redelivered on demand).
    webhook_max_attempts: int = Field(12, ge=1)
    webhook_timeout_seconds: float = Field(5.0, gt=0)
    # Codes in one GraphQL upload call (the bulk HTTP path takes more, streamed).
    max_codes_per_call: int = Field(10_000, ge=1)
    # Background loops (reservation expiry, webhook delivery); 0 turns them off.
    job_interval_seconds: float = Field(5.0, ge=0)
    # Member tiers from lowest to highest, comma-separated: a benefit's minimum tier is compared in this
    # order. Keep it in step with the members service's tier policy; a tier not listed ranks lowest.
    tier_order: str = "BASIC,SILVER,GOLD,DIAMOND"

    @field_validator("tier_order")
    @classmethod
    def _some_tiers(cls, value: str) -> str:
        codes = [code.strip() for code in value.split(",") if code.strip()]
        if not codes or any(len(code) > 20 for code in codes):
            raise ValueError("ABG_BENEFITS_TIER_ORDER lists tier codes (1–20 characters each), lowest first")
        return value

    @property
    def subscribers(self) -> tuple[str, ...]:
        return tuple(name.strip() for name in self.event_subscribers.split(",") if name.strip())

    @property
    def tiers(self) -> tuple[str, ...]:
        """`tier_order` as upper-case codes, lowest first."""
        return tuple(dict.fromkeys(code.strip().upper() for code in self.tier_order.split(",") if code.strip()))


@lru_cache
def get_benefits_settings() -> BenefitsSettings:
    return BenefitsSettings()


def reset_benefits_settings_cache() -> None:
    get_benefits_settings.cache_clear()
