"""Settings of the members service (environment variables prefixed `ABG_MEMBERS_`)."""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict


class MembersSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ABG_MEMBERS_", extra="ignore")

    # Services that receive members' events (TierChanged, MemberErased), comma-separated.
    event_subscribers: str = "points"
    # How often the background loop checks whether today's tier review has run; 0 turns it off.
    tier_review_interval_seconds: float = 3600.0

    @property
    def subscribers(self) -> tuple[str, ...]:
        return tuple(name.strip() for name in self.event_subscribers.split(",") if name.strip())


@lru_cache
def get_members_settings() -> MembersSettings:
    return MembersSettings()


def reset_members_settings_cache() -> None:
    get_members_settings.cache_clear()
