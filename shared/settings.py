"""Settings from environment variables, with defaults that work on a developer's machine.

Every variable is listed in the README. Names are prefixed `ABG_` except the conventional
`DATABASE_URL`. In `production` the development secrets are refused at start-up.
"""

from __future__ import annotations

import base64
import hashlib
import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Ports of the default single-machine deployment; compose.yaml uses the same ones.
DEFAULT_PORTS = {
    "gateway": 4000,
    "members": 4001,
    "points": 4002,
    "benefits": 4003,
    "redemptions": 4004,
}

_DEV_SECRET = "development-only-secret-change-me"


def _dev_key(purpose: str) -> str:
    """A fixed development key (base64 of 32 bytes), derived so that each purpose differs."""
    return base64.b64encode(hashlib.sha256(f"{_DEV_SECRET}:{purpose}".encode()).digest()).decode()


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ABG_", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    host: str = "127.0.0.1"

    # Database: one URL for all services (each uses its own schema), or one per service.
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "ABG_DATABASE_URL")
    )
    members_database_url: str | None = None
    points_database_url: str | None = None
    benefits_database_url: str | None = None
    redemptions_database_url: str | None = None
    data_dir: Path = PROJECT_ROOT / ".data"
    # Least privilege: migrations run as each schema's owner role and each service connects as its
    # own runtime role (shared.database.roles). Off: every service uses the given URL as it is.
    db_roles: bool = True
    # The runtime roles' passwords on a given server (`abg migrate` sets them; a service whose
    # DATABASE_URL is the admin's connects as its role with it). The embedded server generates its own.
    members_db_password: str | None = None
    points_db_password: str | None = None
    benefits_db_password: str | None = None
    redemptions_db_password: str | None = None
    # Per process. The pool keeps `db_pool_size` connections; overflow ones are closed as soon as
    # they come back, so a service whose load needs more than the pool would open and drop a
    # backend per request (a fork and an authentication each). Sized so the usual load fits in the
    # pool; the overflow is a safety valve, and beyond it requests wait for a connection.
    db_pool_size: int = 25
    db_max_overflow: int = 10
    db_pool_timeout_seconds: float = 30.0
    # Longest a statement may run (0: no bound); a caller's nearer deadline bounds it further.
    db_statement_timeout_seconds: float = 30.0

    # Processes per service (uvicorn workers) that `abg run` and `abg serve` start; None: one per
    # core, at most 4 (the database's max_connections is sized for that).
    workers: int | None = Field(default=None, ge=1, le=64)

    # Ports and the URLs services use to reach each other (straight, not through the gateway).
    gateway_port: int = DEFAULT_PORTS["gateway"]
    members_port: int = DEFAULT_PORTS["members"]
    points_port: int = DEFAULT_PORTS["points"]
    benefits_port: int = DEFAULT_PORTS["benefits"]
    redemptions_port: int = DEFAULT_PORTS["redemptions"]
    members_url: str | None = None
    points_url: str | None = None
    benefits_url: str | None = None
    redemptions_url: str | None = None

    # Auth: HS256 with a shared secret by default; RS256 verifies with a public key instead.
    jwt_algorithm: Literal["HS256", "RS256"] = "HS256"
    jwt_secret: str = _DEV_SECRET
    jwt_public_key: str | None = None
    jwt_private_key: str | None = None  # only to mint RS256 tokens (development CLI)
    jwt_issuer: str = "alliance-benefits-graph"
    jwt_audience: str = "alliance-benefits-graph"
    jwt_leeway_seconds: int = 30
    service_token_ttl_seconds: int = 3600
    # Whatever a token's `exp` says, `exp - iat` may not exceed these (service tokens live shorter).
    jwt_max_lifetime_seconds: int = Field(default=24 * 3600, ge=1)
    service_token_max_lifetime_seconds: int = Field(default=3600, ge=1)
    # Subjects a service token may name; any other is refused (comma-separated).
    known_services: str = "gateway,members,points,benefits,redemptions"
    # Per-service signing: service -> [PEM public key, ...] (JSON; several keys while rotating).
    # When set, a service token must verify with a key of the service it names, so one service's
    # key cannot speak for another. This process signs its own with `service_private_key`.
    service_public_keys: dict[str, list[str]] = Field(default_factory=dict)
    service_private_key: str | None = None

    # Personal data: the master key wraps per-member data keys; the blind-index key hashes lookups.
    master_key: str = _dev_key("master")
    retired_master_keys: str = ""  # comma-separated; still unwrap old data keys after a rotation
    blind_index_key: str = _dev_key("blind-index")

    # Events: outbox delivery.
    outbox_poll_interval_seconds: float = 0.5
    outbox_batch_size: int = 100
    outbox_max_attempts: int = 20
    # Delivered events are deleted this long after their last delivery (0 keeps them forever);
    # the dispatcher checks at most once per purge interval.
    outbox_retention_days: float = 7.0
    outbox_purge_interval_seconds: float = 3600.0
    http_timeout_seconds: float = 10.0
    http_max_connections: int = 100  # per process, to all upstreams together (kept alive too)
    # The name this process signs its service-to-service calls with; the runner sets it per process.
    service_name: str = "service"

    # GraphQL limits applied by every subgraph.
    max_query_depth: int = 15
    max_aliases: int = 30
    max_query_tokens: int = 5000
    max_body_bytes: int = 1_000_000
    graphiql: bool | None = None  # default: on in development only
    # Schema disclosure: introspection (__schema/__type, and `_service { sdl }` for anyone but a
    # service) and "Did you mean ...?" hints in errors. Default: on except in production.
    introspection: bool | None = None
    suggestions: bool | None = None

    log_level: str = "INFO"

    @model_validator(mode="after")
    def _refuse_dev_secrets_in_production(self) -> "Settings":
        if self.env == "production":
            dev = {
                "ABG_JWT_SECRET": self.jwt_algorithm == "HS256" and self.jwt_secret == _DEV_SECRET,
                "ABG_MASTER_KEY": self.master_key == _dev_key("master"),
                "ABG_BLIND_INDEX_KEY": self.blind_index_key == _dev_key("blind-index"),
                # Each service signs with its own key, so one stolen key cannot speak for another
                # (`abg service-keys` makes a set).
                "ABG_SERVICE_PUBLIC_KEYS": not self.service_public_keys,
            }
            missing = [name for name, is_dev in dev.items() if is_dev]
            if missing:
                raise ValueError(f"production needs real secrets; set {', '.join(missing)}")
        return self

    @model_validator(mode="after")
    def _check_service_identities(self) -> "Settings":
        if self.service_token_ttl_seconds > self.service_token_max_lifetime_seconds:
            raise ValueError("ABG_SERVICE_TOKEN_TTL_SECONDS exceeds ABG_SERVICE_TOKEN_MAX_LIFETIME_SECONDS")
        strangers = sorted(set(self.service_public_keys) - self.known_service_names)
        if strangers:
            raise ValueError(f"ABG_SERVICE_PUBLIC_KEYS names unknown services: {', '.join(strangers)}")
        return self

    @property
    def known_service_names(self) -> frozenset[str]:
        return frozenset(n.strip() for n in self.known_services.split(",") if n.strip())

    def port_of(self, service: str) -> int:
        return getattr(self, f"{service}_port")

    def url_of(self, service: str) -> str:
        """The GraphQL endpoint of a service, as other services reach it."""
        explicit = getattr(self, f"{service}_url", None)
        return explicit or f"http://{self.host}:{self.port_of(service)}/graphql"

    def database_url_of(self, service: str) -> str | None:
        """The database a service uses; None means the embedded server (resolved at start-up)."""
        return getattr(self, f"{service}_database_url", None) or self.database_url

    def db_password_of(self, service: str) -> str | None:
        return getattr(self, f"{service}_db_password", None)

    @property
    def workers_per_service(self) -> int:
        return self.workers or max(1, min(os.cpu_count() or 1, 4))

    @property
    def graphiql_enabled(self) -> bool:
        return self.env == "development" if self.graphiql is None else self.graphiql

    @property
    def introspection_enabled(self) -> bool:
        return self.env != "production" if self.introspection is None else self.introspection

    @property
    def suggestions_enabled(self) -> bool:
        return self.env != "production" if self.suggestions is None else self.suggestions


@lru_cache
def get_settings() -> Settings:
    return Settings()


def settings_of_environment(env: dict[str, str]) -> Settings:
    """The settings a process started with exactly `env` reads (the same secrets and keys), e.g. to
    mint tokens that the processes a test or benchmark started will accept."""
    saved = dict(os.environ)
    try:
        os.environ.clear()
        os.environ.update(env)
        return Settings()
    finally:
        os.environ.clear()
        os.environ.update(saved)


def reset_settings_cache() -> None:
    """Tests change environment variables; this makes the next `get_settings()` read them again."""
    get_settings.cache_clear()
