"""Settings of the benefits service (environment variables prefixed `ABG_BENEFITS_`)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class BenefitsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ABG_BENEFITS_", extra="ignore")

    # Services that receive benefits' events (partner status changes, alerts), comma-separated.
    event_subscribers: str = "points"
    # Services told of code write-offs (the redemptions service), comma-separated.
    redemption_event_subscribers: str = "redemptions"
    # Partner bearer tokens exchanged for an API key live this long.
    partner_token_ttl_seconds: int = Field(900, ge=60, le=86400)
    # Unrevoked API keys a partner may hold at once (rotation needs two).
    max_api_keys_per_partner: int = Field(10, ge=2)
    # Failed key exchanges per key prefix within the window before that prefix is refused for the
    # rest of it (in memory, per process).
    api_key_failure_limit: int = Field(10, ge=1)
    api_key_failure_window_seconds: float = Field(300.0, gt=0)
    # A reservation (a redemption in flight) gives its code, stock and budget back after this.
    reservation_ttl_seconds: int = Field(900, ge=10, le=86400)
    # A write-off may be undone by the same partner within this window.
    write_off_undo_seconds: int = Field(900, ge=0)
    # A rotated webhook secret keeps signing for this long beside the new one.
    webhook_secret_overlap_seconds: int = Field(86400, ge=0)
    # Partners' webhooks: attempts before a delivery is marked failed (it can be redelivered on demand).
    webhook_max_attempts: int = Field(12, ge=1)
    webhook_timeout_seconds: float = Field(5.0, gt=0)
    # Backoff between attempts: doubling from the base (with jitter), capped.
    webhook_retry_base_seconds: float = Field(10.0, ge=0)
    webhook_retry_max_seconds: float = Field(3600.0, ge=0)
    # Deliveries one round of the webhook loop leases (and sends concurrently).
    webhook_batch_size: int = Field(50, ge=1)
    # Direct recharges through a partner's fulfilment endpoint (one deliverRecharge call): requests
    # in all (status lookups included) and seconds in all before the outcome is left unknown, the
    # time limit of one request, and the backoff between requests (doubling from the base, capped).
    recharge_max_requests: int = Field(6, ge=1, le=50)
    recharge_max_seconds: float = Field(20.0, gt=0, le=300)
    recharge_timeout_seconds: float = Field(5.0, gt=0, le=60)
    recharge_retry_base_seconds: float = Field(0.25, gt=0)
    recharge_retry_max_seconds: float = Field(4.0, gt=0)
    # Codes in one GraphQL upload call (the bulk HTTP path takes more, streamed).
    max_codes_per_call: int = Field(10_000, ge=1)
    # The bulk HTTP upload: codes and bytes in one upload, codes per INSERT, refused lines kept.
    max_codes_per_upload: int = Field(1_000_000, ge=1)
    max_upload_bytes: int = Field(64 * 1024 * 1024, ge=1024)
    code_batch_size: int = Field(1000, ge=1, le=10_000)
    upload_errors_kept: int = Field(100, ge=0, le=10_000)
    # Codes one generateCodes call may make.
    max_generated_codes: int = Field(100_000, ge=1)
    # Rows the expiry job handles per transaction.
    job_batch_size: int = Field(500, ge=1)
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
        return _names(self.event_subscribers)

    @property
    def redemption_subscribers(self) -> tuple[str, ...]:
        return _names(self.redemption_event_subscribers)

    @property
    def tiers(self) -> tuple[str, ...]:
        """`tier_order` as upper-case codes, lowest first."""
        return tuple(dict.fromkeys(code.strip().upper() for code in self.tier_order.split(",") if code.strip()))


def _names(value: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in value.split(",") if name.strip())


@lru_cache
def get_benefits_settings() -> BenefitsSettings:
    return BenefitsSettings()


def reset_benefits_settings_cache() -> None:
    get_benefits_settings.cache_clear()
