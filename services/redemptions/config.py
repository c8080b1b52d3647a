"""Settings of the redemptions service (environment variables prefixed `ABG_REDEMPTIONS_`)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class RedemptionsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ABG_REDEMPTIONS_", extra="ignore")

    # `redeem` drives the saga itself for this long; a redemption not finished by then is answered
    # PENDING and goes on in the background (the member polls `redemption(id)`).
    answer_within_seconds: float = Field(4.0, ge=0, le=60)
    # Points held for a redemption release themselves after this (a safety net: the saga captures
    # or releases them long before).
    hold_ttl_seconds: int = Field(86_400, ge=60, le=7 * 86_400)
    # A reservation of the benefit (code, stock, budget) gives itself back after this.
    reservation_ttl_seconds: int = Field(3_600, ge=10, le=86_400)
    # A process drives a redemption only while its lease lasts; longer than the slowest step
    # (a recharge through a partner takes up to ~20 s). A crashed process's sagas are taken over
    # by another once their leases end.
    lease_seconds: float = Field(60.0, gt=0, le=3600)
    # The recovery loop looks for sagas to resume this often; 0 turns it off.
    recovery_interval_seconds: float = Field(1.0, ge=0)
    recovery_batch_size: int = Field(20, ge=1, le=500)
    # A step whose outcome is unknown (timeout, 5xx, unreachable) is retried with the same key,
    # backing off from the base to the cap (with jitter).
    retry_base_seconds: float = Field(0.5, gt=0)
    retry_max_seconds: float = Field(60.0, gt=0)
    # Before delivery, a saga still not through a step after this long is given up and
    # compensated; after delivery it is never given up: it goes to NEEDS_ATTENTION instead.
    give_up_after_seconds: float = Field(900.0, gt=0)
    # Calls to other services and to the delivery (recharges wait for the partner).
    call_timeout_seconds: float = Field(10.0, gt=0, le=120)
    delivery_timeout_seconds: float = Field(30.0, gt=0, le=300)
    # Members may refund a redemption within the benefit's window; operators any time.
    # Subscribers of RedemptionCompleted / RedemptionRefunded, comma-separated.
    event_subscribers: str = "benefits,members"
    # Fault injection for crash tests, never honoured in production: `<STEP>:called` kills the
    # process right after the step's call answered (before it is recorded), `<STEP>:recorded`
    # right after it is recorded. Steps: ADMIT, HOLD, RESERVE, DELIVER, CAPTURE (recorded with the completion), RELEASE.
    crash_at: str = ""

    @property
    def subscribers(self) -> tuple[str, ...]:
        return tuple(name.strip() for name in self.event_subscribers.split(",") if name.strip())


@lru_cache
def get_redemptions_settings() -> RedemptionsSettings:
    return RedemptionsSettings()


def reset_redemptions_settings_cache() -> None:
    get_redemptions_settings.cache_clear()
